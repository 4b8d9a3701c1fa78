using System.Text.Json;
using TunLB.Lab;

namespace TunLB.EndToEnd.Tests;

/// <summary>One dual-stack <see cref="WireLab"/> with agents, lab servers and the director, shared by <see cref="WireE2ETests"/>.</summary>
public sealed class WireE2EFixture : IDisposable
{
    public WireLab Lab { get; }
    public WireLabServices Services { get; }
    public string WorkDir { get; }
    public Topology T => Lab.Topology;
    private int _seq;

    public WireE2EFixture()
    {
        var prefix = Topology.NewPrefix();
        WorkDir = Path.Combine(Path.GetTempPath(), prefix + "wiree2e");
        Lab = WireLab.Build(prefix);
        try
        {
            Services = new WireLabServices(Lab, Tunlb.Command(), WorkDir);
            // io = "tun" explicitly (the default is "auto"): the tests watch VIP traffic arrive on the director's uplink, which
            // an XDP redirect would take before tcpdump sees it (AfPacketWireTests runs the same lab on afpacket).
            Services.StartAll(WireLab.DirectorConfig().Replace("[director]\n", "[director]\nio = \"tun\"\n"));
        }
        catch
        {
            Lab.Topology.Dispose();
            throw;
        }
    }

    public Sh.Result Curl(params string[] args) => T.Try("client", 30_000, ["curl", "-s", "-g", "--max-time", "10", .. args]);

    /// <summary>Runs a python (scapy) script in a namespace; fails the test when it exits non-zero.</summary>
    public string Python(string role, string script, int timeoutMs = 40_000)
    {
        var path = Path.Combine(WorkDir, $"script{Interlocked.Increment(ref _seq)}.py");
        File.WriteAllText(path, script);
        var r = T.Try(role, timeoutMs, "/usr/bin/python3", path);
        Assert.True(r.ExitCode == 0, $"python in {role} failed ({r.ExitCode}):\n{r.Stderr}\n{r.Stdout}");
        return r.Stdout;
    }

    public string Pcap(string name) => Path.Combine(WorkDir, $"{name}-{Interlocked.Increment(ref _seq)}.pcap");

    /// <summary>The director's drop counters from GET /api/v1/stats.</summary>
    public Dictionary<string, long> Drops()
    {
        var r = T.Try("director", 10_000, "curl", "-s", "--max-time", "5", "http://127.0.0.1:9400/api/v1/stats");
        Assert.True(r.ExitCode == 0, r.Stderr);
        using var doc = JsonDocument.Parse(r.Stdout);
        var drops = doc.RootElement.EnumerateObject().First(p => p.Name.Equals("drops", StringComparison.OrdinalIgnoreCase)).Value;
        return drops.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt64());
    }

    /// <summary>`tunlb adm -L -n -c` in the director namespace.</summary>
    public string AdmConnections()
    {
        var cmd = Tunlb.Command();
        var r = T.Try("director", 10_000, [.. cmd, "adm", "-L", "-n", "-c"]);
        Assert.True(r.ExitCode == 0, $"tunlb adm -L -n -c: {r.ExitCode} {r.Stderr}");
        return r.Stdout;
    }

    public void Dispose()
    {
        Lab.Topology.Dispose();
        // TUNLB_KEEP_WORK=1 keeps the captures, configs and scripts for a look afterwards.
        if (Environment.GetEnvironmentVariable("TUNLB_KEEP_WORK") != "1")
            try { Directory.Delete(WorkDir, true); } catch { }
    }
}

/// <summary>
/// The wire formats end to end on a dual-stack lab: real `tunlb director` and `tunlb realserver` processes, HTTP and
/// UDP servers bound to the VIPs, curl and scapy as clients, and tcpdump / tshark / scapy judging what crossed each link.
/// </summary>
public sealed class WireE2ETests : IClassFixture<WireE2EFixture>
{
    private readonly WireE2EFixture _f;
    public WireE2ETests(WireE2EFixture f) { _f = f; }

    private static readonly string[] RealV4 = WireLab.RealServers.Select(r => r.V4).ToArray();
    private static readonly string[] RealV6 = WireLab.RealServers.Select(r => r.V6).ToArray();

    private static string RoleOf(string address) =>
        WireLab.RealServers.Single(r => r.V4 == address || r.V6 == address).Role;

    private static byte[] Blob() => Enumerable.Range(0, 2 * 1024 * 1024).Select(i => (byte)((i * 131 + 7) & 0xFF)).ToArray();

    // ------------------------------------------------------------------ 1. IPv6 VIP over IPv6-in-IPv6, and mixed families

    [Fact]
    public void Ipv6VipServesHttpOverIpv6InIpv6AndRepliesBypassTheDirector()
    {
        var pcap = _f.Pcap("v6-director");
        using var cap = Capture.Start(_f.T, "director", "eth0", pcap, "ip6", snaplen: 4096);
        var who = new List<string>();
        for (int i = 0; i < 6; i++)
        {
            var r = _f.Curl($"http://[{WireLab.Vip6}]/");
            Assert.True(r.ExitCode == 0, $"curl #{i} over IPv6: {r.ExitCode} {r.Stderr}\n{_f.Services.Director!.Output}");
            var f = r.Stdout.Trim().Split(' ');
            Assert.Equal(WireLab.Vip6, f[1]);  // the server saw the VIP as its local address
            Assert.Equal("80", f[2]);
            who.Add(f[0]);
        }
        var outFile = Path.Combine(_f.WorkDir, "v6-blob.bin");
        var dl = _f.Curl("-o", outFile, $"http://[{WireLab.Vip6}]/blob");
        Assert.True(dl.ExitCode == 0, $"IPv6 download: {dl.ExitCode} {dl.Stderr}");
        Assert.Equal(Blob(), File.ReadAllBytes(outFile));
        cap.Stop();

        // rr over three IPv6 real servers: each served two of the six requests.
        Assert.Equal(new[] { "rs1", "rs2", "rs3" }, who.Distinct().Order().ToArray());
        Assert.All(who.GroupBy(x => x), g => Assert.Equal(2, g.Count()));

        // Every packet the director sent toward a real server: outer IPv6 (director -> real, next header 41, hop limit
        // 64, flow label set) around the client's packet to the VIP (hop limit restored to what reached the director).
        var tunnel = cap.Fields($"ipv6.src == {WireLab.Director6}", "ipv6.src", "ipv6.dst", "ipv6.nxt", "ipv6.hlim", "ipv6.flow", "tcp.dstport");
        Assert.True(tunnel.Count >= 6 * 3, $"expected the 6in6 packets of 7 connections, got {tunnel.Count}");
        var seen = new HashSet<string>();
        foreach (var p in tunnel)
        {
            string[] src = p[0].Split(','), dst = p[1].Split(','), nxt = p[2].Split(','), hlim = p[3].Split(',');
            Assert.Equal(2, src.Length);
            Assert.Contains(dst[0], RealV6);
            Assert.Equal("41", nxt[0]);
            Assert.Equal("6", nxt[1]);
            Assert.Equal("64", hlim[0]);
            Assert.Equal("63", hlim[1]);                      // client 64, inet router 63; the director's decrement undone
            Assert.NotEqual(0, Convert.ToInt32(p[4].Split(',')[0], 16));   // RFC 6438 flow label from the flow hash
            Assert.Equal(WireLab.Client6, src[1]);
            Assert.Equal(WireLab.Vip6, dst[1]);
            Assert.Equal("80", p[5]);
            seen.Add(dst[0]);
        }
        Assert.Equal(3, seen.Count);
        // The director forwarded the inbound half only: nothing with the VIP as (outer) source crossed it.
        Assert.Equal(0, cap.Count($"src host {WireLab.Vip6}"));
        Assert.True(cap.Count($"dst host {WireLab.Vip6}") >= tunnel.Count);
        Assert.Empty(cap.Problems($"ipv6.src == {WireLab.Director6}"));
    }

    [Fact]
    public void MixedFamiliesIpv4VipOverIpv6AndIpv6VipOverIpv4()
    {
        var pcap = _f.Pcap("mixed-director");
        using var cap = Capture.Start(_f.T, "director", "eth0", pcap, "ip6 proto 4 or ip proto 41", snaplen: 4096);
        var r46 = _f.Curl($"http://{WireLab.Vip4}:{WireLab.FourInSixPort}/");
        var r64 = _f.Curl($"http://[{WireLab.Vip6}]:{WireLab.SixInFourPort}/");
        cap.Stop();
        Assert.True(r46.ExitCode == 0, $"4in6: {r46.ExitCode} {r46.Stderr}");
        Assert.True(r64.ExitCode == 0, $"6in4: {r64.ExitCode} {r64.Stderr}");
        Assert.Equal($"rs1 {WireLab.Vip4} {WireLab.FourInSixPort}", r46.Stdout.Trim());
        Assert.Equal($"rs2 {WireLab.Vip6} {WireLab.SixInFourPort}", r64.Stdout.Trim());

        // IPv4 in IPv6 (RFC 2473, next header 4) to rs1's IPv6 address.
        var v4in6 = cap.Fields("ipv6.nxt == 4", "ipv6.src", "ipv6.dst", "ipv6.hlim", "ip.src", "ip.dst", "tcp.dstport");
        Assert.True(v4in6.Count >= 3, $"4in6 packets: {v4in6.Count}");
        Assert.All(v4in6, p => Assert.Equal(
            [WireLab.Director6, WireLab.RealServers[0].V6, "64", WireLab.Client4, WireLab.Vip4, WireLab.FourInSixPort.ToString()], p));

        // IPv6 in IPv4 (RFC 4213, protocol 41, DF always set) to rs2's IPv4 address.
        var v6in4 = cap.Fields("ip.proto == 41", "ip.src", "ip.dst", "ip.ttl", "ip.flags.df", "ipv6.src", "ipv6.dst", "tcp.dstport");
        Assert.True(v6in4.Count >= 3, $"6in4 packets: {v6in4.Count}");
        Assert.All(v6in4, p => Assert.Equal(
            [WireLab.Director4, WireLab.RealServers[1].V4, "64", "1", WireLab.Client6, WireLab.Vip6, WireLab.SixInFourPort.ToString()], p));
        Assert.Empty(cap.Problems($"ip.src == {WireLab.Director4} || ipv6.src == {WireLab.Director6}"));
    }

    // ------------------------------------------------------------------ 2. GUE where protocol 4 is filtered

    [Fact]
    public void GueRealServerServesHttpWhereProtocol4IsDroppedAndIpipDoesNot()
    {
        string ipip = $"http://{WireLab.Vip4}:{WireLab.IpipPortService}/", gue = $"http://{WireLab.Vip4}:{WireLab.GuePortService}/";
        // Control: without the filter both encapsulations reach rs3.
        Assert.Equal($"rs3 {WireLab.Vip4} {WireLab.IpipPortService}", _f.Curl(ipip).Stdout.Trim());
        Assert.Equal($"rs3 {WireLab.Vip4} {WireLab.GuePortService}", _f.Curl(gue).Stdout.Trim());

        const string table = "tlbwire_p4";
        var nft = Sh.Run("ip", ["netns", "exec", _f.T.Ns("dc2"), "nft", "-f", "-"], stdin:
            $"table inet {table} {{\n chain forward_p4 {{\n  type filter hook forward priority 0; policy accept;\n  ip protocol 4 counter drop\n }}\n}}\n");
        Assert.True(nft.ExitCode == 0, nft.Stderr);
        try
        {
            var pcap = _f.Pcap("gue-rs3");
            using var cap = Capture.Start(_f.T, "rs3", "eth0", pcap, $"udp port {WireLab.GuePort} or ip proto 4", snaplen: 4096);
            // Negative control: the same server over IPIP does not answer through the datacenter router's filter.
            var blocked = _f.T.Try("client", 20_000, "curl", "-s", "--max-time", "3", ipip);
            Assert.NotEqual(0, blocked.ExitCode);
            // GUE (UDP) passes: a page and a whole 2 MB download.
            var ok = _f.Curl(gue);
            Assert.True(ok.ExitCode == 0, $"GUE curl: {ok.ExitCode} {ok.Stderr}\n{_f.Services.Director!.Output}");
            Assert.Equal($"rs3 {WireLab.Vip4} {WireLab.GuePortService}", ok.Stdout.Trim());
            var outFile = Path.Combine(_f.WorkDir, "gue-blob.bin");
            var dl = _f.Curl("-o", outFile, $"http://{WireLab.Vip4}:{WireLab.GuePortService}/blob");
            Assert.True(dl.ExitCode == 0, $"GUE download: {dl.ExitCode} {dl.Stderr}");
            Assert.Equal(Blob(), File.ReadAllBytes(outFile));
            cap.Stop();

            var counter = _f.T.Exec("dc2", "nft", "list", "table", "inet", table);
            var m = System.Text.RegularExpressions.Regex.Match(counter, @"packets (\d+)");
            Assert.True(m.Success && long.Parse(m.Groups[1].Value) > 0, $"the filter dropped nothing:\n{counter}");
            Assert.Equal(0, cap.Count("ip proto 4"));

            // What reached rs3: GUE variant 0 (version 0, C 0, Hlen 0, proto 4, flags 0) in UDP from a per-flow source port
            // in 49152..65535 to 6080, checksum 0 (IPv4, gue_checksum off), around the client's packet to the VIP.
            var gues = cap.Fields($"udp.dstport == {WireLab.GuePort}", "ip.src", "ip.dst", "udp.srcport", "udp.checksum", "udp.payload");
            Assert.True(gues.Count >= 6, $"GUE packets at rs3: {gues.Count}");
            var sports = new HashSet<string>();
            foreach (var p in gues)
            {
                Assert.Equal(WireLab.Director4, p[0]);
                Assert.Equal(WireLab.RealServers[2].V4, p[1]);
                Assert.InRange(int.Parse(p[2]), 49152, 65535);
                Assert.Equal("0x0000", p[3]);
                var payload = Convert.FromHexString(p[4].Replace(":", ""));
                Assert.Equal(new byte[] { 0x00, 0x04, 0x00, 0x00 }, payload[..4]);
                Assert.Equal(0x45, payload[4]);                                                    // inner IPv4, no options
                Assert.Equal(6, payload[4 + 9]);                                                   // TCP
                Assert.Equal(System.Net.IPAddress.Parse(WireLab.Client4).GetAddressBytes(), payload[(4 + 12)..(4 + 16)]);
                Assert.Equal(System.Net.IPAddress.Parse(WireLab.Vip4).GetAddressBytes(), payload[(4 + 16)..(4 + 20)]);
                Assert.Equal(WireLab.GuePortService, payload[4 + 22] << 8 | payload[4 + 23]);      // inner TCP destination port
                sports.Add(p[2]);
            }
            Assert.InRange(sports.Count, 1, 3);  // stable per flow: at most one source port per connection (3 were opened)
            Assert.Empty(cap.Problems($"ip.src == {WireLab.Director4}"));
        }
        finally
        {
            Sh.Run("ip", ["netns", "exec", _f.T.Ns("dc2"), "nft", "delete", "table", "inet", table]);
        }
    }

    // ------------------------------------------------------------------ 3. ICMP errors reach the flow's real server only

    [Fact]
    public void IcmpErrorQuotingALiveFlowReachesThatFlowsRealServerOnly()
    {
        const int clientPort = 31123; // below the ephemeral range: no earlier connection of the client holds it
        var slow = _f.T.Start("client", "slow-curl", "curl", "-s", "-o", "/dev/null", "--limit-rate", "40K", "--local-port", clientPort.ToString(),
            "--max-time", "40", $"http://{WireLab.Vip4}/blob");
        try
        {
            // Which real server serves the download: the director's connection table.
            string? serving = null;
            var sw = System.Diagnostics.Stopwatch.StartNew();
            string listing = "";
            while (serving is null && sw.ElapsedMilliseconds < 10_000)
            {
                listing = _f.AdmConnections();
                var line = listing.Split('\n').FirstOrDefault(l => l.Contains($"{WireLab.Client4}:{clientPort} ") && l.Contains("ESTABLISHED"));
                if (line != null) serving = line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[^1].Split(':')[0];
                else Thread.Sleep(200);
            }
            Assert.True(serving != null, $"no ESTABLISHED connection from port {clientPort} in:\n{listing}\ncurl: {slow.Output}");
            var servingRole = RoleOf(serving!);

            var caps = new List<(string Role, Capture Uplink, Capture Tun)>();
            foreach (var rs in WireLab.RealServers)
                caps.Add((rs.Role,
                    Capture.Start(_f.T, rs.Role, "eth0", _f.Pcap($"icmp-{rs.Role}-eth0"), "ip proto 4 and ip[29] == 1", snaplen: 4096),
                    Capture.Start(_f.T, rs.Role, "tunlb-rs0", _f.Pcap($"icmp-{rs.Role}-tun"), "icmp", snaplen: 4096)));
            long noFlowBefore = _f.Drops()["icmp_no_flow"];

            // A router on the client's side reports errors about the server's reply packets (VIP:80 -> client:45123):
            // frag-needed (MTU 1400) and time exceeded; then one quoting a flow that does not exist (port 45999).
            _f.Python("inet", $$"""
                from scapy.all import *
                conf.verb = 0
                def quote(dport):
                    q = IP(src='{{WireLab.Vip4}}', dst='{{WireLab.Client4}}', ttl=62, id=4242)/TCP(sport=80, dport=dport, flags='A', seq=1000, ack=2000)
                    return raw(q)[:28]
                send(IP(src='{{WireLab.Router4}}', dst='{{WireLab.Vip4}}')/ICMP(type=3, code=4, nexthopmtu=1400)/quote({{clientPort}}))
                send(IP(src='{{WireLab.Router4}}', dst='{{WireLab.Vip4}}')/ICMP(type=11, code=0)/quote({{clientPort}}))
                send(IP(src='{{WireLab.Router4}}', dst='{{WireLab.Vip4}}')/ICMP(type=3, code=4, nexthopmtu=1400)/quote(45999))
                """);
            // The two quoting the flow reach its server's TUN device through the director and the agent (both userspace
            // processes on a loaded machine); then a while longer for anything misdirected to show up elsewhere.
            var servingTun = caps.Single(c => c.Role == servingRole).Tun;
            var arrived = System.Diagnostics.Stopwatch.StartNew();
            while (arrived.ElapsedMilliseconds < 20_000 && (servingTun.CountSoFar("icmp") < 2 || _f.Drops()["icmp_no_flow"] == noFlowBefore))
                Thread.Sleep(200);
            Thread.Sleep(500);
            foreach (var c in caps) { c.Uplink.Stop(); c.Tun.Stop(); }
            long noFlowAfter = _f.Drops()["icmp_no_flow"];

            foreach (var (role, uplink, tun) in caps)
            {
                // Decapsulated on the real server's TUN device: the ICMP messages exactly as the router sent them.
                var got = tun.Fields("icmp", "ip.src", "ip.dst", "icmp.type", "icmp.code", "icmp.mtu", "tcp.srcport", "tcp.dstport");
                // Encapsulated on its uplink: IPIP from the director.
                var enc = uplink.Fields("icmp", "ip.src", "ip.dst", "ip.proto", "icmp.type");
                if (role == servingRole)
                {
                    Assert.Equal(2, got.Count);
                    Assert.Equal([$"{WireLab.Router4},{WireLab.Vip4}", $"{WireLab.Vip4},{WireLab.Client4}", "3", "4", "1400", "80", clientPort.ToString()], got[0]);
                    Assert.Equal([$"{WireLab.Router4},{WireLab.Vip4}", $"{WireLab.Vip4},{WireLab.Client4}", "11", "0", "", "80", clientPort.ToString()], got[1]);
                    Assert.Equal(2, enc.Count);
                    Assert.All(enc, p => Assert.Equal($"{WireLab.Director4},{WireLab.Router4},{WireLab.Vip4}", p[0]));
                    Assert.All(enc, p => Assert.Equal($"{serving},{WireLab.Vip4},{WireLab.Client4}", p[1]));
                    Assert.All(enc, p => Assert.StartsWith("4,1", p[2]));
                    Assert.Empty(uplink.Problems($"ip.src == {WireLab.Director4}"));
                }
                else
                {
                    Assert.True(got.Count == 0, $"{role} (not serving the flow) received ICMP: {string.Join("; ", got.Select(g => string.Join(' ', g)))}");
                    Assert.Empty(enc);
                }
            }
            Assert.Equal(1, noFlowAfter - noFlowBefore);
        }
        finally
        {
            slow.Stop();
        }
    }

    // ------------------------------------------------------------------ 4. Fragmented UDP datagrams reach one real server each

    [Fact]
    public void EveryFragmentOfALargeUdpDatagramReachesOneRealServerWhichReassemblesIt()
    {
        var caps = WireLab.RealServers.Select(rs => (rs.Role,
            Cap: Capture.Start(_f.T, rs.Role, "eth0", _f.Pcap($"frag-{rs.Role}"), "ip proto 4 or ip6 proto 41", snaplen: 4096))).ToList();
        int[] before = WireLab.RealServers.Select(rs => _f.Services.Servers[rs.Role].Output.Length).ToArray();
        // 4000-byte datagrams, each from its own source port, fragmented by the client's kernel: six over IPv4 (at MTU
        // 1500, no DF) and four over IPv6 (at 1280, so that fragment plus the 40-byte outer header fits every path).
        _f.Python("client", $$"""
            import socket
            payload = bytes(range(256)) * 15 + b'z' * 144
            for i in range(6):
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                s.setsockopt(socket.IPPROTO_IP, 10, 0)   # IP_MTU_DISCOVER = IP_PMTUDISC_DONT
                s.sendto(('dgv4-%02d' % i).encode().ljust(16, b'.') + payload, ('{{WireLab.Vip4}}', {{WireLab.UdpPort}}))
                s.close()
            for i in range(4):
                s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
                s.setsockopt(socket.IPPROTO_IPV6, 24, 1280)  # IPV6_MTU
                s.sendto(('dgv6-%02d' % i).encode().ljust(16, b'.') + payload, ('{{WireLab.Vip6}}', {{WireLab.UdpPort}}))
                s.close()
            """);
        var got = new Dictionary<string, List<(string Role, int Size, string Peer)>>();
        var sw = System.Diagnostics.Stopwatch.StartNew();
        while (sw.ElapsedMilliseconds < 30_000) // until all ten arrived
        {
            got.Clear();
            for (int i = 0; i < WireLab.RealServers.Count; i++)
            {
                var role = WireLab.RealServers[i].Role;
                foreach (var line in _f.Services.Servers[role].Output[before[i]..].Split('\n'))
                {
                    var f = line.Trim().Split(' ');
                    if (f.Length < 6 || f[0] != "udp" || f[1] != WireLab.UdpPort.ToString()) continue;
                    var tag = System.Text.Encoding.ASCII.GetString(Convert.FromHexString(f[3]))[..7];
                    if (!got.TryGetValue(tag, out var l)) got[tag] = l = new();
                    l.Add((role, int.Parse(f[2]), f[4]));
                }
            }
            if (got.Count == 10) break;
            Thread.Sleep(200);
        }
        Thread.Sleep(300);
        foreach (var c in caps) c.Cap.Stop();

        // On the wire: each datagram's fragments (inner IPv4 identification / IPv6 fragment id) all went to one real
        // server, and that server got at least 3 fragments of it.
        var byId = new Dictionary<string, Dictionary<string, int>>();
        foreach (var (role, cap) in caps)
        {
            foreach (var r in cap.Fields("ip.proto == 4 && (ip.flags.mf == 1 || ip.frag_offset > 0)", "ip.id", "ip.src"))
            {
                Assert.Equal($"{WireLab.Director4},{WireLab.Client4}", r[1]);
                Count(byId, "v4 " + r[0].Split(',')[1], role);
            }
            foreach (var r in cap.Fields("ipv6.fraghdr", "ipv6.fraghdr.ident", "ipv6.src"))
            {
                Assert.Equal($"{WireLab.Director6},{WireLab.Client6}", r[1]);
                Count(byId, "v6 " + r[0], role);
            }
            Assert.Empty(cap.Problems($"ip.src == {WireLab.Director4} || ipv6.src == {WireLab.Director6}"));
        }
        // What a missing datagram needs to be traced: where its fragments went, the director's drops, the agents' counters.
        string Diagnosis() =>
            $"fragments per datagram id on the real servers' eth0: {string.Join("; ", byId.Select(kv => $"{kv.Key}: {string.Join(",", kv.Value.Select(r => $"{r.Key}={r.Value}"))}"))}\n" +
            $"director drops: {string.Join(" ", _f.Drops().Where(d => d.Value != 0).Select(d => $"{d.Key}={d.Value}"))}\n{_f.Services.Director!.Output}";

        Assert.True(got.Count == 10, $"datagrams received: {string.Join(", ", got.Keys.Order())}\n{Diagnosis()}");
        foreach (var (tag, l) in got)
        {
            Assert.True(l.Count == 1, $"{tag} arrived {l.Count} times: {string.Join(", ", l)}");
            Assert.Equal(4000, l[0].Size);
            Assert.Equal(tag.StartsWith("dgv4") ? WireLab.Client4 : WireLab.Client6, l[0].Peer);
        }
        Assert.True(got.Values.Select(l => l[0].Role).Distinct().Count() >= 2, "rr should spread the flows over several servers");
        Assert.Equal(6, byId.Keys.Count(k => k.StartsWith("v4")));
        Assert.Equal(4, byId.Keys.Count(k => k.StartsWith("v6")));
        foreach (var (id, roles) in byId)
        {
            Assert.True(roles.Count == 1, $"fragments of datagram {id} went to {string.Join(", ", roles.Keys)}");
            Assert.True(roles.Values.Single() >= 3, $"datagram {id}: {roles.Values.Single()} fragments\n{Diagnosis()}");
        }

        static void Count(Dictionary<string, Dictionary<string, int>> d, string id, string role)
        {
            if (!d.TryGetValue(id, out var m)) d[id] = m = new();
            m[role] = m.GetValueOrDefault(role) + 1;
        }
    }

    // ------------------------------------------------------------------ 5. ICMP the director generates, field by field

    [Fact]
    public void DirectorEchoRepliesAndFragNeededAreCorrectFieldByField()
    {
        var pcap = _f.Pcap("icmp-client");
        using var cap = Capture.Start(_f.T, "client", "eth0", pcap, "icmp or icmp6", snaplen: 4096);
        var json = _f.Python("client", $$"""
            import json
            from scapy.all import *
            from scapy.utils import checksum
            from scapy.layers.inet6 import in6_chksum
            conf.verb = 0
            def ask(pkt, flt):
                got = sniff(iface='eth0', filter=flt, count=1, timeout=4, started_callback=lambda: send(pkt))
                if not got: raise SystemExit('no answer to ' + pkt.summary())
                return got[0]
            out = {}
            data = b'tunlb-wire-echo!' * 4
            a = ask(IP(dst='{{WireLab.Vip4}}', id=0x4321)/ICMP(type=8, id=0x1234, seq=7)/data, 'icmp and src host {{WireLab.Vip4}}')[IP]
            b = raw(a)
            out['echo4'] = dict(src=a.src, dst=a.dst, ttl=a.ttl, proto=a.proto, ihl=a.ihl, len=a.len, type=a[ICMP].type, code=a[ICMP].code,
                id=a[ICMP].id, seq=a[ICMP].seq, data=raw(a[ICMP].payload).hex(), ipsum=checksum(b[:20]), icmpsum=checksum(b[20:a.len]))
            a = ask(IPv6(dst='{{WireLab.Vip6}}')/ICMPv6EchoRequest(id=0x77, seq=3, data=data), 'icmp6 and src host {{WireLab.Vip6}}')[IPv6]
            b = raw(a)
            out['echo6'] = dict(src=a.src, dst=a.dst, hlim=a.hlim, nh=a.nh, plen=a.plen, type=b[40], code=b[41],
                id=a[ICMPv6EchoReply].id, seq=a[ICMPv6EchoReply].seq, data=a[ICMPv6EchoReply].data.hex(), icmpsum=in6_chksum(58, a, b[40:]))
            big = IP(dst='{{WireLab.MtuVip4}}', flags='DF', id=0x2222, ttl=64)/UDP(sport=40001, dport={{WireLab.MtuPort}})/(b'x' * 1372)
            sent = raw(big)
            a = ask(big, 'icmp and src host {{WireLab.MtuVip4}}')[IP]
            b = raw(a)
            q = b[28:a.len]
            out['fragneeded'] = dict(src=a.src, dst=a.dst, ttl=a.ttl, len=a.len, flags=int(a.flags), type=a[ICMP].type, code=a[ICMP].code,
                mtu=a[ICMP].nexthopmtu, unused=int.from_bytes(b[24:26], 'big'), ipsum=checksum(b[:20]), icmpsum=checksum(b[20:a.len]),
                quote=q.hex(), quotesum=checksum(q[:20]), sent=sent[:28].hex())
            big6 = IPv6(dst='{{WireLab.MtuVip6}}', hlim=64)/UDP(sport=40002, dport={{WireLab.MtuPort}})/(b'y' * 1352)
            sent = raw(big6)
            a = ask(big6, 'icmp6 and src host {{WireLab.MtuVip6}}')[IPv6]
            b = raw(a)
            out['ptb'] = dict(src=a.src, dst=a.dst, hlim=a.hlim, plen=a.plen, type=b[40], code=b[41], mtu=int.from_bytes(b[44:48], 'big'),
                icmpsum=in6_chksum(58, a, b[40:]), quote=b[48:].hex(), sent=sent.hex())
            print(json.dumps(out))
            """);
        cap.Stop();
        using var doc = JsonDocument.Parse(json.Trim().Split('\n')[^1]);
        var o = doc.RootElement;
        string S(string k, string f) => o.GetProperty(k).GetProperty(f).ToString();
        int I(string k, string f) => o.GetProperty(k).GetProperty(f).GetInt32();
        string dataHex = Convert.ToHexStringLower(System.Text.Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("tunlb-wire-echo!", 4))));

        // TTL / hop limit: the director sends 64, the inet router takes one.
        // Echo reply (IPv4): from the VIP, TTL 64, no options, id / seq / data echoed, both checksums valid (sum 0).
        Assert.Equal((WireLab.Vip4, WireLab.Client4, 63, 1, 5, 20 + 8 + 64), (S("echo4", "src"), S("echo4", "dst"), I("echo4", "ttl"), I("echo4", "proto"), I("echo4", "ihl"), I("echo4", "len")));
        Assert.Equal((0, 0, 0x1234, 7), (I("echo4", "type"), I("echo4", "code"), I("echo4", "id"), I("echo4", "seq")));
        Assert.Equal(dataHex, S("echo4", "data"));
        Assert.Equal((0, 0), (I("echo4", "ipsum"), I("echo4", "icmpsum")));

        // Echo reply (ICMPv6 129): from the VIP, hop limit 64, next header 58, id / seq / data echoed, checksum valid.
        Assert.Equal((WireLab.Vip6, WireLab.Client6, 63, 58, 8 + 64), (S("echo6", "src"), S("echo6", "dst"), I("echo6", "hlim"), I("echo6", "nh"), I("echo6", "plen")));
        Assert.Equal((129, 0, 0x77, 3), (I("echo6", "type"), I("echo6", "code"), I("echo6", "id"), I("echo6", "seq")));
        Assert.Equal(dataHex, S("echo6", "data"));
        Assert.Equal(0, I("echo6", "icmpsum"));

        // Frag-needed (RFC 792 / 1191): from the VIP, type 3 code 4, next-hop MTU 1300 - 20, unused 0, the offending IP
        // header and its first 8 payload bytes (the UDP header) quoted, every checksum valid.
        Assert.Equal((WireLab.MtuVip4, WireLab.Client4, 63, 20 + 8 + 28), (S("fragneeded", "src"), S("fragneeded", "dst"), I("fragneeded", "ttl"), I("fragneeded", "len")));
        Assert.Equal((3, 4, WireLab.SmallMtu - 20, 0), (I("fragneeded", "type"), I("fragneeded", "code"), I("fragneeded", "mtu"), I("fragneeded", "unused")));
        Assert.Equal((0, 0, 0), (I("fragneeded", "ipsum"), I("fragneeded", "icmpsum"), I("fragneeded", "quotesum")));
        var quote = Convert.FromHexString(S("fragneeded", "quote"));
        var sent = Convert.FromHexString(S("fragneeded", "sent"));
        Assert.Equal(28, quote.Length);
        Assert.Equal(sent[..8], quote[..8]);       // version, IHL, TOS, total length 1400, identification, DF
        Assert.InRange(quote[8], 62, 63);          // TTL: 64 minus the inet router, and maybe the director's forward step
        Assert.Equal(sent[9], quote[9]);           // protocol
        Assert.Equal(sent[12..28], quote[12..28]); // addresses and the UDP header

        // Packet Too Big (RFC 4443): from the VIP, type 2 code 0, MTU max(1280, 1300 - 40), the packet quoted from its
        // start as far as fits 1280 bytes, checksum valid.
        Assert.Equal((WireLab.MtuVip6, WireLab.Client6, 63), (S("ptb", "src"), S("ptb", "dst"), I("ptb", "hlim")));
        Assert.Equal((2, 0, 1280, 0), (I("ptb", "type"), I("ptb", "code"), I("ptb", "mtu"), I("ptb", "icmpsum")));
        Assert.Equal(1280 - 40, I("ptb", "plen"));
        var q6 = Convert.FromHexString(S("ptb", "quote"));
        var s6 = Convert.FromHexString(S("ptb", "sent"));
        Assert.Equal(1280 - 48, q6.Length);
        Assert.Equal(s6[..7], q6[..7]);            // version, class, flow label, payload length, next header
        Assert.InRange(q6[7], 62, 63);             // hop limit
        Assert.Equal(s6[8..q6.Length], q6[8..]);   // addresses, UDP header and data

        // tshark agrees: every ICMP message from the director decodes cleanly.
        Assert.Empty(cap.Problems($"ip.src == {WireLab.Vip4} || ip.src == {WireLab.MtuVip4} || ipv6.src == {WireLab.Vip6} || ipv6.src == {WireLab.MtuVip6}"));
        var icmpRows = cap.Fields("icmp.type == 3 || icmpv6.type == 2 || icmp.type == 0 || icmpv6.type == 129", "icmp.type", "icmpv6.type");
        Assert.Equal(4, icmpRows.Count);
    }

    // ------------------------------------------------------------------ path MTU toward an IPv6 real server

    /// <summary>
    /// The IPv6 twin of <see cref="WireTests"/>' 1400-byte upload: the link into dc2 gets MTU 1400, so the inet router
    /// answers the director's full-size 6in6 packets toward rs3 with ICMPv6 Packet Too Big. The director must lower
    /// rs3's MTU (as it does from IPv4 frag-needed) and send the client Packet Too Big for 1400 - 40, so the upload
    /// completes.
    /// </summary>
    [Fact]
    public void Ipv6UploadOverA1400ByteMtuPathCompletesAndTheDirectorLearnsTheMtu()
    {
        void Mtu(int mtu)
        {
            _f.T.SetMtu("dc2", "wan", mtu);
            _f.T.SetMtu("inet", "dc2", mtu);
        }
        var data = new byte[1024 * 1024];
        new Random(11).NextBytes(data);
        var payload = Path.Combine(_f.WorkDir, "upload6.bin");
        File.WriteAllBytes(payload, data);
        var pcap = _f.Pcap("pmtu6-director");
        Mtu(1400);
        try
        {
            using var cap = Capture.Start(_f.T, "director", "eth0", pcap, "icmp6", snaplen: 4096);
            var r = _f.T.Try("client", 40_000, "curl", "-s", "-g", "--max-time", "20", "--data-binary", "@" + payload,
                "-H", "Content-Type: application/octet-stream", $"http://[{WireLab.Vip6}]:{WireLab.UploadPort6}/");
            cap.Stop();
            // The inet router did report the smaller MTU to the director.
            var ptb = cap.Fields($"icmpv6.type == 2 && ipv6.dst == {WireLab.Director6}", "icmpv6.mtu");
            Assert.True(ptb.Count > 0, "no Packet Too Big reached the director");
            Assert.All(ptb, p => Assert.Equal("1400", p[0]));
            Assert.True(r.ExitCode == 0, $"IPv6 upload over a 1400-byte path: curl {r.ExitCode}; {ptb.Count} Packet Too Big reached the director\n{_f.Services.Director!.Output}");
            Assert.Equal($"rs3 {data.Length}", r.Stdout.Trim());
            Assert.Contains($"path MTU toward {WireLab.RealServers[2].V6} is 1400", _f.Services.Director!.Output);
        }
        finally
        {
            Mtu(1500);
        }
    }
}
