using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using TunLB.Lab;
using Xunit.Abstractions;

namespace TunLB.EndToEnd.Tests.Hardening;

/// <summary>
/// Junk at trafgen's full rate, bounded in packets and seconds, into the director's uplink and into a real server
/// (IPIP and GUE), while a rate-limited download and keep-alive requests run through the VIP: both processes stay up,
/// legitimate traffic is served, and the processes' counters explain every packet the kernel handed them, checked
/// against the kernel's own counters (docs/robustness.md). JUNK_FLOOD_SECONDS (default 10) runs it for longer.
/// </summary>
public sealed class JunkFloodTests(ITestOutputHelper output)
{
    private const int GuePort = 6080, MetricsPort = 9403;
    private const string Rs = "rs1";
    private static readonly int FloodSeconds = int.TryParse(Environment.GetEnvironmentVariable("JUNK_FLOOD_SECONDS"), out var s) && s > 0 ? s : 10;
    // Bounded: at most this many frames per sender whatever the rate (this VM sends 100-300k frames/s).
    private static long MaxFrames => 400_000L * FloodSeconds;

    [Fact]
    public void JunkIsCountedAndLegitimateTrafficServed()
    {
        using var lab = new HardeningLab(StandardLab.RealServerConfig() + $"\ngue = true\nmetrics = \"127.0.0.1:{MetricsPort}\"\n");
        var d = lab.StartDirector(HardeningLab.Config("rr", ""));
        var t = lab.T;
        Assert.Equal(0, t.Try("client", 30_000, "curl", "-sf", "-o", "/dev/null", $"http://{StandardLab.Vip}/index.html").ExitCode);
        // The independent judge on the real server: what its kernel passed to local delivery, by tunnel kind.
        string judge = Path.Combine(lab.WorkDir, "judge.nft");
        File.WriteAllText(judge, $"table inet junkjudge {{\n counter ipip {{ }}\n counter gue {{ }}\n chain input {{\n" +
            $"  type filter hook input priority -400;\n  ip protocol 4 counter name ipip\n  udp dport {GuePort} counter name gue\n }}\n}}\n");
        t.Exec(Rs, "nft", "-f", judge);
        string dirJunk = Path.Combine(lab.WorkDir, "director.trafgen"), rsJunk = Path.Combine(lab.WorkDir, "realserver.trafgen");
        string dirMac = Mac(t, "director", "eth0"), inetMac = Mac(t, "inet", "dir"), rsMac = Mac(t, Rs, "eth0"), dc1Mac = Mac(t, "dc1", "p1");
        Task.WaitAll(Task.Run(() => Generate("director", dirMac, inetMac, dirJunk)), Task.Run(() => Generate("realserver", rsMac, dc1Mac, rsJunk)));

        var dir0 = DirectorCounters.Read(lab);
        var rs0 = RealServerCounters.Read(t);
        string outFile = Path.Combine(lab.WorkDir, "download.bin");
        var download = t.Start("client", "junk-download", "curl", "-s", "--max-time", $"{FloodSeconds + 60}", "--limit-rate", "25k",
            "-o", outFile, $"http://{StandardLab.Vip}/blob");
        // As in SynFloodTests: the junk shares links and CPUs with these requests, so a request may need retransmits;
        // it counts as failed only after 20 s.
        var wrk = lab.StartWrk(FloodSeconds + 2, connections: 8, timeoutSeconds: 20);
        Thread.Sleep(1000);
        var sw = Stopwatch.StartNew();
        var rsFlood = t.Start("dc1", "junk-rs", "timeout", $"{FloodSeconds}", "trafgen", "--dev", "p1", "--conf", rsJunk,
            "--num", MaxFrames.ToString(), "--cpus", "1", "--no-sock-mem", "--notouch-irq", "--no-cpu-stats");
        // The director's veth has native XDP, whose ring pushes back: trafgen's TX_RING path then fails (EAGAIN from a
        // full send buffer), so this sender takes its per-packet path (blocking sendto, selected by a rate above reach).
        var dirFlood = t.Try("inet", (FloodSeconds + 20) * 1000, "timeout", $"{FloodSeconds}", "trafgen", "--dev", "dir", "--conf", dirJunk,
            "--num", MaxFrames.ToString(), "--rate", "10000000pps", "--cpus", "1", "--no-sock-mem", "--notouch-irq", "--no-cpu-stats");
        Assert.True(rsFlood.WaitForOutput("packets outgoing", 30_000), rsFlood.Output);
        double seconds = sw.Elapsed.TotalSeconds;
        long dirSent = Sent(dirFlood.Stdout + dirFlood.Stderr), rsSent = Sent(rsFlood.Output);

        Assert.True(wrk.WaitForOutput("requests in", 60_000), wrk.Output);
        var (requests, errors, non2xx) = HardeningLab.ParseWrk(wrk.Output);
        Assert.True(download.WaitForExit(90_000), "download did not finish");
        string sha = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(outFile)));

        // Once nothing is in flight the sums hold exactly; retransmits of the requests above may still trickle in.
        DirectorCounters dir1 = DirectorCounters.Read(lab);
        RealServerCounters rs1 = RealServerCounters.Read(t);
        var settle = Stopwatch.StartNew();
        while (settle.ElapsedMilliseconds < 30_000 && !(dir1.Delta(dir0).Balanced && rs1.Delta(rs0).Balanced))
        {
            Thread.Sleep(500);
            dir1 = DirectorCounters.Read(lab);
            rs1 = RealServerCounters.Read(t);
        }
        var dd = dir1.Delta(dir0);
        var rd = rs1.Delta(rs0);

        output.WriteLine($"director junk: {dirSent} frames in {seconds:0.0} s = {dirSent / seconds:0} pps (trafgen exit {dirFlood.ExitCode})");
        output.WriteLine($"real-server junk: {rsSent} frames = {rsSent / seconds:0} pps");
        output.WriteLine($"wrk: {requests} requests, {errors} socket errors, {non2xx} non-2xx\n{wrk.Output}");
        output.WriteLine(dd.Describe());
        output.WriteLine(rd.Describe());

        Assert.False(d.HasExited, d.Output);                                          // the processes are alive
        Assert.False(lab.Services.Agents[Rs].HasExited, lab.Services.Agents[Rs].Output);
        Assert.True(dirSent > 20_000 && rsSent > 20_000, $"trafgen sent {dirSent} and {rsSent}:\n{dirFlood.Stderr}\n{rsFlood.Output}");
        Assert.Equal(lab.Services.BlobSha256, sha);                                   // legitimate traffic served
        Assert.True(requests >= 1000, wrk.Output);
        Assert.Equal(0, errors);
        Assert.Equal(0, non2xx);

        // Director: kernel handover = process reads; reads = capture drops + egress records + engine inputs;
        // engine inputs = forwarded + answered + dropped by reason.
        Assert.True(dd.Balanced, dd.Describe());
        Assert.True(dd.Dropped >= dirSent / 10, $"the junk did not reach the director's engine:\n{dd.Describe()}");
        Assert.True(dd.Reasons >= 5, dd.Describe());
        // Real server: what its kernel passed to local delivery = what the agent read + socket-level drops.
        Assert.True(rd.Balanced, rd.Describe());
        Assert.True(rd.Dropped >= rsSent / 10, $"the junk did not reach the agent:\n{rd.Describe()}");
        Assert.True(rd.Reasons >= 4, rd.Describe());
    }

    private static void Generate(string mode, string dstMac, string srcMac, string path)
    {
        var script = Path.Combine(Tunlb.RepoRoot(), "tests", "fixtures", "junk_trafgen.py");
        var r = Sh.Run("/usr/bin/python3", [script, mode, dstMac, srcMac, path], 120_000);
        Assert.True(r.ExitCode == 0, r.Stdout + r.Stderr);
    }

    private static string Mac(Topology t, string role, string dev) => t.Exec(role, "cat", $"/sys/class/net/{dev}/address").Trim();

    // trafgen's summary: "  3000000 packets outgoing" (also printed when stopped by timeout's SIGTERM).
    private static long Sent(string text)
    {
        var m = Regex.Match(text, @"(\d+) packets outgoing");
        return m.Success ? long.Parse(m.Groups[1].Value) : -1;
    }

    /// <summary>"name{labels} value" lines of a Prometheus text page.</summary>
    internal static Dictionary<string, long> ParseMetrics(string text)
    {
        var d = new Dictionary<string, long>();
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#') continue;
            int sp = line.LastIndexOf(' ');
            if (sp > 0 && long.TryParse(line[(sp + 1)..], out var v)) d[line[..sp]] = v;
        }
        return d;
    }

    internal static long Sum(Dictionary<string, long> m, string family, string? labelContains = null, string? labelExcludes = null) =>
        m.Where(kv => (kv.Key == family || kv.Key.StartsWith(family + "{", StringComparison.Ordinal)) &&
                      (labelContains is null || kv.Key.Contains(labelContains, StringComparison.Ordinal)) &&
                      (labelExcludes is null || !kv.Key.Contains(labelExcludes, StringComparison.Ordinal)))
         .Sum(kv => kv.Value);
}
