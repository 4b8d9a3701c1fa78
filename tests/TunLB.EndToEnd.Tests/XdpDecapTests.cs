using System.Security.Cryptography;
using TunLB.Lab;

namespace TunLB.EndToEnd.Tests;

/// <summary>
/// <c>[realserver] decap = "xdp"</c> in the standard lab: the director tunnels as always, and on every real server an XDP
/// program takes the outer header off before the stack sees the packet. Judged independently by tcpdump on each real
/// server's eth0 (which, behind XDP, sees the client's bare TCP packets to the VIP arrive and no IPIP at all), by the
/// agents' own counters (the raw sockets decapsulated nothing), and by curl (every request answered, a 300 KB download intact).
/// </summary>
public sealed class XdpDecapTests : IDisposable
{
    private readonly StandardLab _lab;
    private readonly LabServices _services;
    private Topology T => _lab.Topology;

    public XdpDecapTests()
    {
        var prefix = Topology.NewPrefix();
        _lab = StandardLab.Build(prefix);
        try
        {
            _services = new LabServices(_lab, Tunlb.Command(), Path.Combine(Path.GetTempPath(), prefix + "xdpdecap"));
            _services.StartRealServers(realServerConfig: StandardLab.RealServerConfig() + "\ndecap = \"xdp\"\n");
            _services.StartDirector(StandardLab.DirectorConfig());
        }
        catch
        {
            _lab.Topology.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        T.Dispose();
        try { Directory.Delete(_services.WorkDir, true); } catch { }
    }

    [Fact]
    public void RealServersDecapsulateInXdpAndTheAgentsSeeNoTunnelPacket()
    {
        foreach (var (role, agent) in _services.Agents)
            Assert.Contains("IP-in-IP decapsulated by XDP", agent.Output);
        Assert.Contains("prog/xdp", T.Exec("rs1", "ip", "-d", "link", "show", "dev", "eth0"));

        var caps = StandardLab.RealServers.ToDictionary(r => r.Role,
            r => Capture.Start(T, r.Role, "eth0", Path.Combine(_services.WorkDir, r.Role + ".pcap"), "inbound and (ip proto 4 or (tcp and dst host " + StandardLab.Vip + "))"));
        var seen = new HashSet<string>();
        for (int i = 0; i < 30; i++)
        {
            var r = T.Try("client", 30_000, "curl", "-s", "--max-time", "10", $"http://{StandardLab.Vip}/");
            Assert.True(r.ExitCode == 0, $"request {i}: curl exit {r.ExitCode} {r.Stderr}");
            seen.Add(r.Stdout.Trim());
        }
        Assert.Equal(["rs1", "rs2", "rs3"], seen.Order());
        var blob = T.Try("client", 60_000, "sh", "-c", $"curl -s --max-time 30 http://{StandardLab.Vip}/blob | sha256sum");
        Assert.StartsWith(_services.BlobSha256, blob.Stdout.Trim());

        foreach (var (role, cap) in caps)
        {
            cap.Stop();
            Assert.True(cap.Count("tcp dst port 80") > 0, $"{role}: no decapsulated TCP packet to the VIP on eth0");
            Assert.Equal(0, cap.Count("ip proto 4"));
            cap.Dispose();
        }

        foreach (var (role, agent) in _services.Agents)
        {
            Assert.Equal(0, agent.Stop(15));
            Assert.Contains("decapsulated 0 packets", agent.Output);   // the raw sockets' path
            var m = System.Text.RegularExpressions.Regex.Match(agent.Output, @"decapsulated by XDP: (\d+) packets");
            Assert.True(m.Success && long.Parse(m.Groups[1].Value) >= 10, $"{role}: {agent.Output}");
        }
        // The BPF links closed with the agents: nothing left on the devices.
        Assert.DoesNotContain("prog/xdp", T.Exec("rs1", "ip", "-d", "link", "show", "dev", "eth0"));

        // Attached, then the maps refuse (more directors than the 4096 entries they hold): the agent detaches again
        // and serves through its raw socket, rather than leaving a half-filled program on the device.
        var many = string.Join(", ", Enumerable.Range(0, 4200).Select(i => $"\"198.18.{i / 250}.{i % 250 + 1}\"").Prepend($"\"{StandardLab.DirectorAddress}\""));
        var conf = Path.Combine(_services.WorkDir, "realserver-many.toml");
        File.WriteAllText(conf, $"[realserver]\nvips = [\"{StandardLab.Vip}\"]\ndirectors = [{many}]\ndecap = \"xdp\"\n");
        var half = T.Start("rs1", "agent-many", Tunlb.Command()[0], [.. Tunlb.Command()[1..], "realserver", "--config", conf]);
        try
        {
            Assert.True(half.WaitForOutput(LabServices.AgentReady, 60_000), half.Output);
            Assert.Contains("decap = \"xdp\" could not be set up", half.Output);
            Assert.DoesNotContain("prog/xdp", T.Exec("rs1", "ip", "-d", "link", "show", "dev", "eth0"));
            // Only rs1 has an agent now: round robin sends every third connection there, so a short connect timeout and
            // a few retries reach it (the others time out: nothing decapsulates on rs2 and rs3).
            var r = T.Try("client", 30_000, "curl", "-s", "--connect-timeout", "1", "--max-time", "5", "--retry", "4", "--retry-delay", "1", $"http://{StandardLab.Vip}/");
            Assert.True(r.ExitCode == 0, $"curl exit {r.ExitCode} {r.Stderr}\n{half.Output}");
        }
        finally
        {
            half.Stop(15);
        }
    }
}
