using Regex = System.Text.RegularExpressions.Regex;
using TunLB.Lab;

namespace TunLB.EndToEnd.Tests;

/// <summary>
/// <c>decap = "xdp"</c> on the dual-stack wire lab: the director tunnels IPv4 in IPv4, IPv6 in IPv6, IPv4 in IPv6 and
/// IPv6 in IPv4 (one service each), and GUE to rs3 without and (port 8090 here) with a UDP checksum. Judged by curl
/// (every request answered by the expected real, a 2 MB download over IPv6 in IPv6 whole), by tcpdump on each real
/// server's eth0 (behind XDP no IP-in-IP packet of either family and no checksum-less GUE arrives, only the clients' bare
/// packets to the VIPs; GUE with a checksum does, as it is left to the kernel and the agent) and by the agents' counters
/// (their sockets decapsulated nothing but rs3's checksummed GUE).
/// </summary>
public sealed class XdpDecapWireTests : IDisposable
{
    private readonly WireLab _lab;
    private readonly WireLabServices _services;
    private Topology T => _lab.Topology;

    public XdpDecapWireTests()
    {
        var prefix = Topology.NewPrefix();
        _lab = WireLab.Build(prefix);
        try
        {
            _services = new WireLabServices(_lab, Tunlb.Command(), Path.Combine(Path.GetTempPath(), prefix + "xdpwire"));
            var director = WireLab.DirectorConfig();
            Assert.Single(director.Split("encap = \"ipip\"\n").Skip(1));
            _services.StartAll(director.Replace("encap = \"ipip\"\n", $"encap = \"gue\"\ngue_port = {WireLab.GuePort}\ngue_checksum = true\n"),
                WireLab.RealServerConfig() + "\ndecap = \"xdp\"\n");
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

    private string Get(string vip, int port, string path = "/")
    {
        var url = vip.Contains(':') ? $"http://[{vip}]:{port}{path}" : $"http://{vip}:{port}{path}";
        var r = T.Try("client", 30_000, "curl", "-s", "-g", "--max-time", "10", url);
        Assert.True(r.ExitCode == 0, $"{url}: curl exit {r.ExitCode} {r.Stderr}\n{_services.Director!.Output}");
        return r.Stdout.Trim();
    }

    [Fact]
    public void EveryFamilyPairAndGueAreDecapsulatedInXdpAndChecksummedGueReachesTheAgent()
    {
        foreach (var (role, agent) in _services.Agents)
            Assert.Contains($"IP-in-IP decapsulated by XDP (IPv4 and IPv6 in IPv4 and IPv6; GUE on port {WireLab.GuePort} over IPv4 without UDP checksum;", agent.Output);

        const string tunnels = "ip proto 4 or ip proto 41 or ip6 proto 4 or ip6 proto 41";
        var caps = WireLab.RealServers.ToDictionary(r => r.Role,
            r => Capture.Start(T, r.Role, "eth0", Path.Combine(_services.WorkDir, r.Role + ".pcap"),
                $"inbound and ({tunnels} or udp dst port {WireLab.GuePort} or (tcp and (dst host {WireLab.Vip4} or dst host {WireLab.Vip6})))"));

        // The answer names the real server, its VIP and port: "rs1 2001:db8:10::10 80".
        var six = Enumerable.Range(0, 6).Select(_ => Get(WireLab.Vip6, WireLab.HttpPort)).ToList();          // 6 in 6
        var four = Enumerable.Range(0, 6).Select(_ => Get(WireLab.Vip4, WireLab.HttpPort)).ToList();         // 4 in 4
        Assert.Equal(["rs1", "rs2", "rs3"], six.Select(s => s.Split(' ')[0]).Distinct().Order());
        Assert.Equal(["rs1", "rs2", "rs3"], four.Select(s => s.Split(' ')[0]).Distinct().Order());
        Assert.All(six, s => Assert.EndsWith($" {WireLab.Vip6} {WireLab.HttpPort}", s));
        Assert.Equal($"rs1 {WireLab.Vip4} {WireLab.FourInSixPort}", Get(WireLab.Vip4, WireLab.FourInSixPort));   // 4 in 6
        Assert.Equal($"rs2 {WireLab.Vip6} {WireLab.SixInFourPort}", Get(WireLab.Vip6, WireLab.SixInFourPort));   // 6 in 4
        Assert.Equal($"rs3 {WireLab.Vip4} {WireLab.GuePortService}", Get(WireLab.Vip4, WireLab.GuePortService)); // GUE: XDP
        Assert.Equal($"rs3 {WireLab.Vip4} {WireLab.IpipPortService}", Get(WireLab.Vip4, WireLab.IpipPortService)); // GUE with checksum: the agent
        var blob = T.Try("client", 60_000, "curl", "-s", "-g", "--max-time", "30", "-o", "/dev/null", "-w", "%{http_code} %{size_download}",
            $"http://[{WireLab.Vip6}]:{WireLab.UploadPort6}/blob");
        Assert.Equal($"200 {2 * 1024 * 1024}", blob.Stdout.Trim());

        foreach (var (role, cap) in caps)
        {
            cap.Stop();
            Assert.True(cap.Count("tcp") > 0, $"{role}: no decapsulated TCP packet to a VIP on eth0");
            Assert.True(cap.Count("ip6 and tcp") > 0, $"{role}: no decapsulated IPv6 TCP packet to a VIP on eth0");
            Assert.Equal(0, cap.Count(tunnels));
            Assert.Equal(0, cap.Count($"udp dst port {WireLab.GuePort} and udp[6:2] = 0"));
            Assert.Equal(role == "rs3", cap.Count($"udp dst port {WireLab.GuePort}") > 0);
            cap.Dispose();
        }

        foreach (var (role, agent) in _services.Agents)
        {
            Assert.Equal(0, agent.Stop(15));
            var raw = Regex.Match(agent.Output, @"decapsulated (\d+) packets \(received");
            var xdp = Regex.Match(agent.Output, @"decapsulated by XDP: (\d+) packets");
            Assert.True(raw.Success && xdp.Success, agent.Output);
            // rs1 and rs2 get no checksummed GUE: their agents touched no packet. rs3's agent decapsulated that request only.
            if (role == "rs3") Assert.True(long.Parse(raw.Groups[1].Value) > 0, $"{role}: the checksummed GUE did not reach the agent\n{agent.Output}");
            else Assert.True(raw.Groups[1].Value == "0", $"{role}: the agent decapsulated IP-in-IP that XDP should have\n{agent.Output}");
            Assert.True(long.Parse(xdp.Groups[1].Value) >= 4, $"{role}: {agent.Output}");
        }
    }
}
