using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace TunLB.Lab;

/// <summary>`tunlb lab demo`: build the lab, send HTTP through the VIP, show who answered and what crossed the director.</summary>
public static class LabDemo
{
    public static int Run(TextWriter o, int requests = 12)
    {
        Prerequisites.Ensure(o);
        var prefix = Topology.NewPrefix();
        var work = Path.Combine(Path.GetTempPath(), prefix + "lab");
        StandardLab? lab = null;
        using var cancelReg = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGINT, ctx =>
        {
            ctx.Cancel = true;
            o.WriteLine("\ninterrupted: removing the lab");
            lab?.Topology.Dispose();
            Environment.Exit(130);
        });
        using var termReg = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, ctx =>
        {
            ctx.Cancel = true;
            lab?.Topology.Dispose();
            Environment.Exit(143);
        });
        try
        {
            o.WriteLine("TunLB lab demo");
            o.WriteLine($"  building namespaces {prefix}*");
            lab = StandardLab.Build(prefix);
            o.WriteLine($"""
                  client {StandardLab.ClientAddress} ── inet ──┬── director {StandardLab.DirectorAddress} (VIP {StandardLab.Vip}:80, rr)
                                               ├── dc1 ── rs1 192.0.2.11, rs2 192.0.2.12
                                               └── dc2 ── rs3 192.0.2.131
                """);
            var svc = new LabServices(lab, LabServices.SelfCommand(), work);
            svc.StartRealServers();
            o.WriteLine("  real-server agents and HTTP servers (bound to the VIP) are up");
            using var dirCap = Capture.Start(lab.Topology, "director", "eth0", Path.Combine(work, "director.pcap"));
            using var cliCap = Capture.Start(lab.Topology, "client", "eth0", Path.Combine(work, "client.pcap"));
            // What reaches the director is counted on the router's end of the link: with io = "xdp" (the default where
            // it works) the XDP program takes VIP packets before tcpdump's tap on the director's own eth0.
            using var toDirCap = Capture.Start(lab.Topology, "inet", "dir", Path.Combine(work, "inet-dir.pcap"));
            var director = svc.StartDirector(StandardLab.DirectorConfig("rr"));
            o.WriteLine("  director is up\n");

            var counts = new SortedDictionary<string, int>();
            for (int i = 1; i <= requests; i++)
            {
                var r = lab.Topology.Try("client", 10_000, "curl", "-s", "--max-time", "5", $"http://{StandardLab.Vip}/");
                var who = r.ExitCode == 0 ? r.Stdout.Trim() : $"FAILED (curl exit {r.ExitCode})";
                var rs = StandardLab.RealServers.FirstOrDefault(x => x.Role == who);
                o.WriteLine($"  GET http://{StandardLab.Vip}/ #{i,-3} answered by {who}{(rs != null ? $" ({rs.Address}, {rs.Datacenter})" : "")}");
                counts[who] = counts.GetValueOrDefault(who) + 1;
            }
            o.WriteLine("  spread: " + string.Join(", ", counts.Select(kv => $"{kv.Key} {kv.Value}")));

            var dl = Path.Combine(work, "download");
            var d = lab.Topology.Try("client", 20_000, "curl", "-s", "--max-time", "15", "-o", dl, $"http://{StandardLab.Vip}/blob");
            bool intact = d.ExitCode == 0 && File.Exists(dl) && Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(dl))) == svc.BlobSha256;
            o.WriteLine($"  300 kB download through the VIP: {(intact ? "intact (sha256 matches)" : "FAILED")}");

            dirCap.Stop(); cliCap.Stop(); toDirCap.Stop();
            director.Stop();
            int toVip = toDirCap.Count($"dst host {StandardLab.Vip}");
            int ipip = dirCap.Count("ip proto 4");
            int fromVipAtDirector = dirCap.Count($"src host {StandardLab.Vip}");
            int fromVipAtClient = cliCap.Count($"src host {StandardLab.Vip}");
            int toVipAtClient = cliCap.Count($"dst host {StandardLab.Vip}");
            o.WriteLine();
            o.WriteLine("  What crossed the wire (tcpdump):");
            o.WriteLine($"    client -> VIP packets sent by the client:           {toVipAtClient}");
            o.WriteLine($"    client -> VIP packets handed to the director:       {toVip}   (on the router's end of the link)");
            o.WriteLine($"    IPIP packets the director sent to real servers:     {ipip}");
            o.WriteLine($"    VIP -> client replies received by the client:       {fromVipAtClient}");
            o.WriteLine($"    VIP -> client replies that crossed the director:    {fromVipAtDirector}");
            var summary = Regex.Match(director.Output, "^.*stopped.*$", RegexOptions.Multiline);
            if (summary.Success) o.WriteLine("  director: " + summary.Value.Trim());
            bool ok = intact && fromVipAtDirector == 0 && fromVipAtClient > 0 && toVip > 0 && ipip >= toVip && counts.Keys.All(k => k.StartsWith("rs")) && counts.Count == StandardLab.RealServers.Count;
            ok &= EgressDemo.Run(o, LabServices.SelfCommand());
            o.WriteLine();
            o.WriteLine(ok
                ? "  OK: requests were spread over all real servers, and every reply went straight from the real server to the client."
                : "  PROBLEM: see the lines above.");
            return ok ? 0 : 1;
        }
        catch (Exception e)
        {
            o.WriteLine($"lab demo failed: {e.Message}");
            return 1;
        }
        finally
        {
            lab?.Topology.Dispose();
            if (Environment.GetEnvironmentVariable("TUNLB_LAB_KEEP") == "1") o.WriteLine($"  lab removed; captures and configs kept in {work}");
            else { try { Directory.Delete(work, true); } catch { } o.WriteLine("  lab removed"); }
        }
    }
}
