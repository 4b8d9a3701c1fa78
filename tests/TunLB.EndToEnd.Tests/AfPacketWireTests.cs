using TunLB.Lab;

namespace TunLB.EndToEnd.Tests;

/// <summary>The dual-stack <see cref="WireLab"/> with the director on `io = "afpacket"`: IPv6 (and IPv4) VIPs through the ring.</summary>
public sealed class AfPacketWireFixture : IDisposable
{
    public WireLab Lab { get; }
    public WireLabServices Services { get; }
    public string WorkDir { get; }
    public Topology T => Lab.Topology;

    public AfPacketWireFixture()
    {
        var prefix = Topology.NewPrefix();
        WorkDir = Path.Combine(Path.GetTempPath(), prefix + "afpwire");
        Lab = WireLab.Build(prefix);
        try
        {
            Services = new WireLabServices(Lab, Tunlb.Command(), WorkDir);
            Services.StartAll(WireLab.DirectorConfig().Replace("[director]\n", "[director]\nio = \"afpacket\"\n"));
        }
        catch
        {
            Lab.Topology.Dispose();
            throw;
        }
    }

    public Sh.Result Curl(params string[] args) => T.Try("client", 60_000, ["curl", "-s", "-g", "--max-time", "30", .. args]);

    public void Dispose()
    {
        Lab.Topology.Dispose();
        try { Directory.Delete(WorkDir, true); } catch { }
    }
}

public sealed class AfPacketWireTests : IClassFixture<AfPacketWireFixture>
{
    private readonly AfPacketWireFixture _f;
    public AfPacketWireTests(AfPacketWireFixture f) { _f = f; }

    [Fact]
    public void Ipv6AndIpv4VipsAnswerThroughTheRing()
    {
        Assert.Contains("io afpacket", _f.Services.Director!.Output);
        foreach (var vip in new[] { $"[{WireLab.Vip6}]", WireLab.Vip4 })
        {
            var seen = new HashSet<string>();
            for (int i = 0; i < 6; i++)
            {
                var r = _f.Curl($"http://{vip}/");
                Assert.True(r.ExitCode == 0, $"curl {vip} #{i}: {r.ExitCode} {r.Stderr}\n{_f.Services.Director.Output}");
                seen.Add(r.Stdout.Trim().Split(' ')[0]);
            }
            Assert.Equal(3, seen.Count);
        }
    }

    [Fact]
    public void Ipv6UploadOfTwoMegabytesArrivesWhole()
    {
        var data = new byte[2 * 1024 * 1024];
        new Random(5).NextBytes(data);
        var payload = Path.Combine(_f.WorkDir, "upload6.bin");
        File.WriteAllBytes(payload, data);
        using var cap = Capture.Start(_f.T, "director", "eth0", Path.Combine(_f.WorkDir, "up6.pcap"), $"ip6 and dst host {WireLab.Vip6}");
        var r = _f.Curl("-H", "Expect:", "--data-binary", "@" + payload, "-H", "Content-Type: application/octet-stream",
            $"http://[{WireLab.Vip6}]:{WireLab.UploadPort6}/");
        cap.Stop();
        // TCPv6 super-packets reached the ring (and were cut into segments: the upload completed).
        Assert.True(cap.Count("greater 3000") > 0, "expected IPv6 GSO super-packets toward the VIP on the director's uplink");
        Assert.True(r.ExitCode == 0, $"IPv6 upload: curl {r.ExitCode} {r.Stderr}\n{_f.Services.Director!.Output}");
        Assert.Equal($"rs3 {data.Length}", r.Stdout.Trim());
    }
}
