using System.Security.Cryptography;
using TunLB.Lab;

namespace TunLB.EndToEnd.Tests;

/// <summary>
/// The LVS-TUN data path on the standard lab with real curl, real HTTP servers bound to the VIP, and
/// tcpdump/tshark/scapy judging what crossed each link.
/// </summary>
public sealed class DataPathTests : IClassFixture<LabFixture>
{
    private readonly LabFixture _f;
    public DataPathTests(LabFixture f) { _f = f; }

    [Fact]
    public void RoundRobinSpreadsThirtyRequestsEvenly()
    {
        var counts = new Dictionary<string, int>();
        for (int i = 0; i < 30; i++)
        {
            var r = _f.Curl($"http://{StandardLab.Vip}/");
            Assert.True(r.ExitCode == 0, $"curl #{i} failed: {r.ExitCode} {r.Stderr}");
            var who = r.Stdout.Trim();
            counts[who] = counts.GetValueOrDefault(who) + 1;
        }
        Assert.Equal(new[] { "rs1", "rs2", "rs3" }, counts.Keys.Order().ToArray());
        Assert.All(counts.Values, c => Assert.Equal(10, c));
    }

    [Fact]
    public void DownloadThroughVipArrivesIntactAndRepliesBypassTheDirector()
    {
        var dirPcap = Path.Combine(_f.WorkDir, "dl-director.pcap");
        var cliPcap = Path.Combine(_f.WorkDir, "dl-client.pcap");
        var outFile = Path.Combine(_f.WorkDir, "download.bin");
        using (var dirCap = Capture.Start(_f.T, "director", "eth0", dirPcap))
        using (var cliCap = Capture.Start(_f.T, "client", "eth0", cliPcap))
        {
            var r = _f.Curl("-o", outFile, $"http://{StandardLab.Vip}/blob");
            Assert.True(r.ExitCode == 0, $"curl failed: {r.ExitCode} {r.Stderr}");
            dirCap.Stop(); cliCap.Stop();

            var hash = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(outFile)));
            Assert.Equal(LabServices.BlobSize, new FileInfo(outFile).Length);
            Assert.Equal(_f.Services.BlobSha256, hash);

            // The client received the whole reply from the VIP (GRO may merge segments, so count bytes) ...
            Assert.True(cliCap.IpBytes($"ip.src=={StandardLab.Vip}") >= LabServices.BlobSize);
            // ... and none of those crossed the director, which saw the inbound half only.
            Assert.Equal(0, dirCap.Count($"src host {StandardLab.Vip}"));
            Assert.True(dirCap.Count($"dst host {StandardLab.Vip}") > 0);
        }
    }

    [Fact]
    public void DirectorEmitsIpipToRealServersWithTheVipAsInnerDestination()
    {
        var pcap = Path.Combine(_f.WorkDir, "ipip.pcap");
        using var cap = Capture.Start(_f.T, "director", "eth0", pcap, "ip proto 4");
        for (int i = 0; i < 3; i++)
            Assert.Equal(0, _f.Curl($"http://{StandardLab.Vip}/").ExitCode);
        cap.Stop();

        // tshark decodes both IP layers of each IPIP packet: "outer,inner" per field.
        var r = Sh.Run("tshark", ["-r", pcap, "-n", "-o", "ip.check_checksum:TRUE", "-T", "fields",
            "-E", "separator=|", "-e", "ip.src", "-e", "ip.dst", "-e", "ip.ttl", "-e", "ip.proto", "-e", "ip.checksum.status", "-e", "tcp.dstport", "-e", "_ws.expert.message"]);
        Assert.True(r.ExitCode == 0, r.Stderr);
        var lines = r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length >= 9, $"expected IPIP packets for 3 requests, got {lines.Length}");
        var reals = StandardLab.RealServers.Select(x => x.Address).ToHashSet();
        var seenReals = new HashSet<string>();
        foreach (var line in lines)
        {
            var f = line.Split('|');
            var src = f[0].Split(','); var dst = f[1].Split(','); var ttl = f[2].Split(','); var proto = f[3].Split(',');
            Assert.Equal(2, dst.Length);
            Assert.Equal(StandardLab.DirectorAddress, src[0]);          // outer source: the director toward the real server
            Assert.Contains(dst[0], reals);                              // outer destination: a real server
            Assert.Equal(StandardLab.ClientAddress, src[1]);            // inner packet unchanged: client ...
            Assert.Equal(StandardLab.Vip, dst[1]);                      // ... to the VIP
            Assert.Equal("4", proto[0]);
            Assert.Equal("64", ttl[0]);
            Assert.Equal("80", f[5]);
            Assert.DoesNotContain("2", f[4].Split(','));                // ip.checksum.status 2 = bad
            Assert.DoesNotContain("Malformed", f[6]);
            seenReals.Add(dst[0]);
        }
        Assert.Equal(3, seenReals.Count);
    }

    [Fact]
    public void RealServerDropsIpipFromStrangersAndAcceptsTheSameFromItsDirector()
    {
        // Inner packet: UDP from the client to the VIP. Sent in IPIP to rs1 first from the client's namespace
        // (a host that is not a director), then the same bytes from the director's namespace.
        string Scapy(string outerSrc) =>
            $"from scapy.all import *; conf.verb=0; " +
            $"send(IP(src='{outerSrc}', dst='192.0.2.11', proto=4)/IP(src='{StandardLab.ClientAddress}', dst='{StandardLab.Vip}')/UDP(sport=40000, dport=9999)/Raw(b'tunlb-probe'), count=5, inter=0.05)";

        var pcap1 = Path.Combine(_f.WorkDir, "stranger.pcap");
        using (var cap = Capture.Start(_f.T, "rs1", "tunlb-rs0", pcap1, "udp port 9999"))
        {
            var r = _f.T.Try("client", 120_000, "/usr/bin/python3", "-c", Scapy(StandardLab.ClientAddress)); // importing scapy took over 30 s at load 90
            Assert.True(r.ExitCode == 0, r.Stderr);
            Thread.Sleep(500);
            cap.Stop();
            Assert.Equal(0, cap.Count("udp port 9999"));
        }

        var pcap2 = Path.Combine(_f.WorkDir, "director.pcap");
        using (var cap = Capture.Start(_f.T, "rs1", "tunlb-rs0", pcap2, "udp port 9999"))
        {
            var r = _f.T.Try("director", 120_000, "/usr/bin/python3", "-c", Scapy(StandardLab.DirectorAddress));
            Assert.True(r.ExitCode == 0, r.Stderr);
            cap.WaitForCount("udp port 9999", 5, 20_000); // through the agent's userspace decap; exactly 5, below
            Thread.Sleep(500);
            cap.Stop();
            Assert.Equal(5, cap.Count("udp port 9999"));
        }
    }
}
