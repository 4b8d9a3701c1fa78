using System.Security.Cryptography;
using System.Text.Json;
using TunLB.Lab;

namespace TunLB.EndToEnd.Tests;

/// <summary>
/// The standard lab with the director on <c>io = "xdp"</c> (or "auto", which picks xdp here): the XDP program on the
/// director's eth0 steers port 80 (three reals) and UDP 5353 to AF_XDP sockets. Clients send through veth, so their
/// packets arrive CHECKSUM_PARTIAL and the director must complete the checksums; the real servers' links are the judge.
/// </summary>
public class XdpLabFixture : BlobAndUdpLabFixture
{
    public static string Config(string io) =>
        StandardLab.DirectorConfig().Replace("[director]", $"[director]\n{(io == "" ? "" : $"io = \"{io}\"\n")}check_port_range = \"61000-61099\"") + UdpService;

    protected XdpLabFixture(string io) : base("xdp", 12, Config(io)) { }

    public XdpLabFixture() : this("xdp") { }

    public Sh.Result Api(params string[] args) => T.Try("director", 20_000, ["curl", "-s", "--max-time", "10", .. args[..^1], "http://127.0.0.1:9400" + args[^1]]);

    /// <summary>Datagrams of <paramref name="size"/> bytes from one client socket (one flow) to VIP:port.</summary>
    public Sh.Result SendUdp(string vip, int port, int count, int size = 100, int sourcePort = 47100) =>
        T.Try("client", 20_000, "python3", "-c",
            $"import socket,time\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.bind(('{StandardLab.ClientAddress}',{sourcePort}))\n" +
            $"for i in range({count}):\n s.sendto(b'u'*{size},('{vip}',{port})); time.sleep(0.02)\n");
}

/// <summary>The same lab with the default <c>io</c> (not in the file: "auto").</summary>
public sealed class XdpAutoLabFixture : XdpLabFixture
{
    public XdpAutoLabFixture() : base("") { }
}

public sealed class XdpTests(XdpLabFixture f) : IClassFixture<XdpLabFixture>
{
    private readonly XdpLabFixture _f = f;

    [Fact]
    public void StartupLineNamesTheBackendAndTheProgramIsAttached()
    {
        Assert.Contains("io xdp: native on eth0 (1 queue)", _f.Services.Director!.Output);
        Assert.Contains("prog/xdp", _f.T.Exec("director", "ip", "-d", "link", "show", "dev", "eth0"));
    }

    [Fact]
    public void RequestsSpreadOverTheRealsAndTwoMegabytesArriveIntactWithGoodInnerChecksums()
    {
        var pcaps = StandardLab.RealServers.ToDictionary(r => r.Role, r => Path.Combine(_f.WorkDir, $"tcp-{r.Role}.pcap"));
        var caps = pcaps.Select(kv => Capture.Start(_f.T, kv.Key, "eth0", kv.Value, "ip proto 4", snaplen: 2000)).ToList();
        var counts = new Dictionary<string, int>();
        try
        {
            for (int i = 0; i < 30; i++)
            {
                var r = _f.Curl($"http://{StandardLab.Vip}/");
                Assert.True(r.ExitCode == 0, $"curl #{i} failed: {r.ExitCode} {r.Stderr}\n{_f.Services.Director!.Output}");
                counts[r.Stdout.Trim()] = counts.GetValueOrDefault(r.Stdout.Trim()) + 1;
            }
            var outFile = Path.Combine(_f.WorkDir, "big.bin");
            var d = _f.Curl("-o", outFile, $"http://{StandardLab.Vip}/big");
            Assert.True(d.ExitCode == 0, $"download failed: {d.ExitCode} {d.Stderr}");
            Assert.Equal(XdpLabFixture.BigSize, new FileInfo(outFile).Length);
            Assert.Equal(_f.BigSha256, Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(outFile))));
        }
        finally
        {
            foreach (var c in caps) { c.Stop(); c.Dispose(); }
        }
        Assert.Equal(new[] { "rs1", "rs2", "rs3" }, counts.Keys.Order().ToArray());
        Assert.All(counts.Values, c => Assert.Equal(10, c));
        // Every real saw IPIP from the director whose inner TCP checksum verifies: the director completed the veth
        // sender's partial checksums (none were left as the bare pseudo-header sum).
        foreach (var (role, pcap) in pcaps)
        {
            var good = Sh.Run("tshark", ["-r", pcap, "-n", "-o", "tcp.check_checksum:TRUE", "-Y", "ip.proto == 4 && tcp.checksum.status == 1",
                "-T", "fields", "-e", "frame.number"]).Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;
            var bad = Sh.Run("tshark", ["-r", pcap, "-n", "-o", "tcp.check_checksum:TRUE", "-Y", "ip.proto == 4 && tcp && tcp.checksum.status != 1",
                "-T", "fields", "-e", "frame.number", "-e", "tcp.checksum"]).Stdout.Trim();
            Assert.True(good >= 10, $"{role}: only {good} tunnelled TCP packets with a verified inner checksum");
            Assert.True(bad.Length == 0, $"{role}: tunnelled TCP packets with a bad inner checksum: {bad}");
        }
    }

    [Fact]
    public void UdpFlowReachesOneRealWithItsChecksumCompleted()
    {
        var pcaps = StandardLab.RealServers.ToDictionary(r => r.Role, r => Path.Combine(_f.WorkDir, $"udp-{r.Role}.pcap"));
        var caps = pcaps.ToDictionary(kv => kv.Key, kv => Capture.Start(_f.T, kv.Key, "eth0", kv.Value, "ip proto 4", snaplen: 2000));
        int[] before = StandardLab.RealServers.Select(rs => _f.Udp[rs.Role].Output.Length).ToArray();
        List<(string Role, string Line)> got;
        try
        {
            Assert.Equal(0, _f.SendUdp(StandardLab.Vip, XdpLabFixture.UdpPort, 5).ExitCode);
            got = WaitDatagrams(before, 5); // received, so they crossed the real server's uplink: then stop the captures
        }
        finally { foreach (var c in caps.Values) c.Stop(); }
        var role = Assert.Single(got.Select(g => g.Role).Distinct());
        Assert.All(got, g => Assert.Equal($"udp 100 {StandardLab.ClientAddress} 47100", g.Line));
        var fields = caps[role].Fields("ip.proto == 4 && udp", "udp.checksum.status");
        Assert.Equal(5, fields.Count);
        Assert.All(fields, f => Assert.Equal("1", f[0])); // 1 = Good
        foreach (var c in caps.Values) c.Dispose();
    }

    [Fact]
    public void ServicesAddedAtRunTimeThroughTheApiReachAReal()
    {
        const string NewVip = "203.0.113.11";
        _f.T.Exec("inet", "ip", "route", "replace", NewVip + "/32", "via", StandardLab.DirectorAddress);
        // A new VIP (the program's VIP map changes) and a new port of the old VIP (only its service map changes).
        foreach (var (vip, port) in new[] { (NewVip, 7000), (StandardLab.Vip, 7001) })
        {
            var svc = _f.Api("-X", "POST", "-H", "Content-Type: application/json", "-d",
                $"{{\"protocol\":\"udp\",\"vip\":\"{vip}\",\"port\":{port},\"scheduler\":\"rr\"}}", "/api/v1/services");
            Assert.True(svc.ExitCode == 0 && !svc.Stdout.Contains("\"error\""), svc.Stdout + svc.Stderr);
            var real = _f.Api("-X", "POST", "-H", "Content-Type: application/json", "-d", "{\"address\":\"192.0.2.131\"}",
                $"/api/v1/services/udp/{vip}/{port}/reals");
            Assert.True(real.ExitCode == 0 && !real.Stdout.Contains("\"error\""), real.Stdout + real.Stderr);
        }
        var pcap = Path.Combine(_f.WorkDir, "runtime-rs3.pcap");
        using var cap = Capture.Start(_f.T, "rs3", "eth0", pcap, "ip proto 4", snaplen: 2000);
        Assert.Equal(0, _f.SendUdp(NewVip, 7000, 3, sourcePort: 47200).ExitCode);
        Assert.Equal(0, _f.SendUdp(StandardLab.Vip, 7001, 3, sourcePort: 47201).ExitCode);
        cap.WaitForCount("ip proto 4 and ip[29] == 17", 6, 20_000); // IPIP with UDP inside; exact counts per flow below
        cap.Stop();
        var inner = cap.Fields("ip.proto == 4 && udp", "ip.dst", "udp.dstport", "udp.checksum.status");
        Assert.Equal(3, inner.Count(f => f[0].EndsWith(NewVip, StringComparison.Ordinal) && f[1] == "7000" && f[2] == "1"));
        Assert.Equal(3, inner.Count(f => f[0].EndsWith(StandardLab.Vip, StringComparison.Ordinal) && f[1] == "7001" && f[2] == "1"));
    }

    [Fact]
    public void StoppingTheDirectorDetachesTheProgramAndReportsSocketCounters()
    {
        for (int i = 0; i < 3; i++) Assert.Equal(0, _f.Curl($"http://{StandardLab.Vip}/").ExitCode);
        var director = _f.Services.Director!;
        Assert.Equal(0, director.Stop(15));
        // The requests came through the sockets (not the kernel's path into the TUN device), their checksums completed.
        Assert.Matches(@"xdp: [1-9]\d* packets from AF_XDP sockets, \d+ from the TUN device, [1-9]\d* checksums completed", director.Output);
        Assert.DoesNotContain("prog/xdp", _f.T.Exec("director", "ip", "-d", "link", "show", "dev", "eth0"));
        _f.Services.StartDirector(XdpLabFixture.Config("xdp"));
    }

    private List<(string Role, string Line)> WaitDatagrams(int[] before, int count)
    {
        var got = new List<(string Role, string Line)>();
        var sw = System.Diagnostics.Stopwatch.StartNew();
        while (sw.ElapsedMilliseconds < 30_000) // until they all arrived
        {
            got.Clear();
            for (int i = 0; i < StandardLab.RealServers.Count; i++)
            {
                var role = StandardLab.RealServers[i].Role;
                foreach (var l in _f.Udp[role].Output[before[i]..].Split('\n', StringSplitOptions.RemoveEmptyEntries))
                    if (l.StartsWith("udp ", StringComparison.Ordinal)) got.Add((role, l.Trim()));
            }
            if (got.Count >= count) break;
            Thread.Sleep(100);
        }
        return got;
    }
}

/// <summary><c>io</c> left out of the file: "auto" picks xdp on this host and says so at start, in /api/v1/info and in /metrics.</summary>
public sealed class XdpAutoTests(XdpAutoLabFixture f) : IClassFixture<XdpAutoLabFixture>
{
    [Fact]
    public void AutoChoosesXdpAndReportsIt()
    {
        Assert.Contains("io auto: xdp (native on eth0)", f.Services.Director!.Output);
        using var info = JsonDocument.Parse(f.Api("/api/v1/info").Stdout);
        Assert.Equal("xdp", info.RootElement.GetProperty("io").GetString());
        Assert.Equal("auto", info.RootElement.GetProperty("io_requested").GetString());
        Assert.Equal("", info.RootElement.GetProperty("io_skipped").GetString());
        Assert.Contains("tunlb_io_backend{backend=\"xdp\",requested=\"auto\"} 1", f.Api("/metrics").Stdout);
        var r = f.Curl($"http://{StandardLab.Vip}/");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Matches("^rs[123]$", r.Stdout.Trim());
        // The renderer keeps what the file said.
        Assert.Contains("io = \"auto\"", f.Api("/api/v1/config.toml").Stdout);
    }

    [Fact]
    public void AutoFallsBackAndSaysWhyWhenXdpAndAfpacketCannotStart()
    {
        var director = f.Services.Director!;
        Assert.Equal(0, director.Stop(15));
        try
        {
            // An interface that does not exist stops xdp and afpacket alike; tun does not use it.
            f.Services.StartDirector(XdpLabFixture.Config("").Replace("[director]", "[director]\ncapture_interfaces = [\"nosuch0\"]"));
            Assert.Matches(@"io auto: tun \(xdp: .*nosuch0.*; afpacket: .*nosuch0.*\)", f.Services.Director!.Output);
            using var info = JsonDocument.Parse(f.Api("/api/v1/info").Stdout);
            Assert.Equal("tun", info.RootElement.GetProperty("io").GetString());
            Assert.Equal("auto", info.RootElement.GetProperty("io_requested").GetString());
            Assert.StartsWith("xdp: ", info.RootElement.GetProperty("io_skipped").GetString());
            Assert.Contains("tunlb_io_backend{backend=\"tun\",requested=\"auto\"} 1", f.Api("/metrics").Stdout);
            var r = f.Curl($"http://{StandardLab.Vip}/");
            Assert.True(r.ExitCode == 0, r.Stderr + f.Services.Director!.Output);
        }
        finally
        {
            Assert.Equal(0, f.Services.Director!.Stop(15));
            f.Services.StartDirector(XdpLabFixture.Config(""));
        }
    }
}
