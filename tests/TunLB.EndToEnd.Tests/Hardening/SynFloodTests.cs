using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using TunLB.Lab;
using Xunit.Abstractions;

namespace TunLB.EndToEnd.Tests.Hardening;

/// <summary>
/// Spoofed SYNs from 65,536 sources (198.19.0.0/16) at the highest rate trafgen reaches here, bounded in packets and
/// seconds, while a rate-limited download and keep-alive requests run through the VIP (docs/robustness.md).
/// </summary>
public sealed class SynFloodTests(ITestOutputHelper output)
{
    private const int FloodPackets = 3_000_000, FloodSeconds = 10;

    [Theory]
    // The rates are low because this shared 2-core VM generates only 7,000 to 60,000 SYNs/s (docs/robustness.md).
    [InlineData(1_000_000, "both", 2_000, 90)]            // the defence engages: SYNs above the rate go statelessly
    [InlineData(20_000, "short_synrecv", 2_000, 50)]      // a small table: half-open entries are evicted first
    public void EstablishedFlowsSurviveAndMemoryStaysBounded(int connMax, string mode, int rate, int fill)
    {
        using var lab = new HardeningLab();
        var d = lab.StartDirector(HardeningLab.Config("rr",
            $"conn_max = {connMax}\nsyn_flood_rate = {rate}\nsyn_flood_mode = \"{mode}\"\nconn_half_open_fill = {fill}"));
        var t = lab.T;
        string cfg = Path.Combine(lab.WorkDir, "syn.trafgen");
        File.WriteAllText(cfg, SynConfig(Mac(t, "inet", "cli"), Mac(t, "client", "eth0")));

        Assert.Equal(0, t.Try("client", 30_000, "curl", "-sf", "-o", "/dev/null", $"http://{StandardLab.Vip}/index.html").ExitCode);
        Thread.Sleep(1000);
        long rssBefore = HardeningLab.RssKiB(d.Pid);

        string outFile = Path.Combine(lab.WorkDir, "download.bin");
        var download = t.Start("client", "flood-download", "curl", "-s", "--max-time", "60", "--limit-rate", "25k", "-o", outFile,
            $"http://{StandardLab.Vip}/blob");
        // A flood at the machine's full rate (200-280k SYNs/s here) shares the client's link and the director's CPU with
        // these requests: their packets can be lost and retransmitted (latency max 3.7 s seen alone, more inside the
        // full suite). The claim is that every request succeeds, so wrk waits up to 20 s before calling one failed.
        var wrk = lab.StartWrk(FloodSeconds + 4, connections: 8, timeoutSeconds: 20);
        Thread.Sleep(1000);
        var sw = Stopwatch.StartNew();
        var flood = t.Try("client", (FloodSeconds + 20) * 1000, "timeout", FloodSeconds.ToString(), "trafgen", "--dev", "eth0",
            "--conf", cfg, "--num", FloodPackets.ToString(), "--cpus", "1", "--no-sock-mem", "--notouch-irq", "--no-cpu-stats");
        double floodSeconds = sw.Elapsed.TotalSeconds;
        var stats = lab.Api("/api/v1/stats");
        long rssAfter = HardeningLab.RssKiB(d.Pid);

        Assert.True(wrk.WaitForOutput("requests in", 30_000), wrk.Output);
        var (requests, errors, non2xx) = HardeningLab.ParseWrk(wrk.Output);
        Assert.Equal(0, Wait(download, 90_000));
        string sha = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(outFile)));

        long sent = ParseSent(flood.Stdout + flood.Stderr);
        var sf = stats.GetProperty("syn_flood");
        output.WriteLine($"flood: {sent} SYNs in {floodSeconds:0.0} s = {sent / floodSeconds:0} pps (trafgen exit {flood.ExitCode})");
        output.WriteLine($"rss: {rssBefore} KiB -> {rssAfter} KiB (+{rssAfter - rssBefore} KiB), conn_max {connMax}");
        output.WriteLine($"wrk: {requests} requests, {errors} socket errors, {non2xx} non-2xx\n{wrk.Output}");
        output.WriteLine($"stats: {sf}; connections {stats.GetProperty("connection_table_evictions")} evicted");
        output.WriteLine(lab.Api("/api/v1/info").ToString());

        Assert.True(sent > 20_000, $"trafgen sent only {sent} packets:\n{flood.Stdout}\n{flood.Stderr}");
        Assert.Equal(lab.Services.BlobSha256, sha);                             // the download finished intact
        Assert.True(requests >= 1000, wrk.Output);                              // 1,000+ keep-alive requests ...
        Assert.Equal(0, errors);                                                // ... none lost
        Assert.Equal(0, non2xx);
        Assert.True(rssAfter - rssBefore <= connMax * 128L / 1024 + 64 * 1024, $"RSS grew by {rssAfter - rssBefore} KiB");
        Assert.True(sf.GetProperty("engagements").GetInt64() >= 1, sf.ToString());
        if (mode == "both") Assert.True(sf.GetProperty("stateless_scheduled").GetInt64() > 0, sf.ToString());
        else Assert.True(sf.GetProperty("evicted_half_open").GetInt64() > 0, sf.ToString());
        Assert.Equal(0, stats.GetProperty("connection_table_evictions").GetInt64()); // nothing established was evicted
        Assert.False(d.HasExited);
    }

    private static int Wait(BackgroundProcess p, int ms)
    {
        var sw = Stopwatch.StartNew();
        while (!p.HasExited && sw.ElapsedMilliseconds < ms) Thread.Sleep(100);
        return p.HasExited ? p.ExitCode : -1;
    }

    private static string Mac(Topology t, string role, string dev) =>
        JsonDocument.Parse(t.Exec(role, "ip", "-j", "link", "show", "dev", dev)).RootElement[0].GetProperty("address").GetString()!;

    private static string Bytes(string mac) => string.Join(", ", mac.Split(':').Select(b => "0x" + b));

    // Ethernet + IPv4 (random ID, source 198.19.x.y) + TCP SYN to VIP:80 from a random port and sequence number.
    private static string SynConfig(string dstMac, string srcMac) => $$"""
        {
          {{Bytes(dstMac)}}, {{Bytes(srcMac)}}, 0x08, 0x00,
          0x45, 0x00, 0x00, 0x28, drnd(2), 0x40, 0x00, 0x40, 0x06, csumip(14, 33),
          198, 19, drnd(2),
          203, 0, 113, 10,
          drnd(2), 0x00, 0x50, drnd(4), 0x00, 0x00, 0x00, 0x00, 0x50, 0x02, 0xfa, 0xf0, csumtcp(14, 34), 0x00, 0x00
        }
        """;

    // trafgen's summary: "  3000000 packets outgoing" (also printed when stopped by timeout's SIGTERM).
    private static long ParseSent(string text)
    {
        var m = System.Text.RegularExpressions.Regex.Match(text, @"(\d+) packets outgoing");
        return m.Success ? long.Parse(m.Groups[1].Value) : -1;
    }
}
