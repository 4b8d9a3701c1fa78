using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using TunLB.Lab;

namespace TunLB.LabBench;

public sealed partial class BenchRun
{
    // ---------- d. request/response latency ----------

    private const int LatencyPort = 11111, LatencyMessageBytes = 64;

    /// <summary>
    /// One TCP connection, a 64-byte request and a 64-byte response per round, the next round after the response
    /// (sockperf ping-pong), through the VIP against straight to rs1, in the same run. The VIP service has rs1 as its only
    /// real server so both paths end at the same server. Rows: direct, kernel (the same path as the VIP's with plain
    /// kernel forwarding in the director namespace, TunLB stopped), and one per io.
    /// </summary>
    private LatencyResult Latency()
    {
        string[] Args(int seconds) => ["ping-pong", "--tcp", "-p", LatencyPort.ToString(CultureInfo.InvariantCulture),
            "-m", LatencyMessageBytes.ToString(CultureInfo.InvariantCulture), "-t", seconds.ToString(CultureInfo.InvariantCulture), "--full-rtt"];
        string args = string.Join(' ', Args(_o.LatencySeconds));
        _o.Log.WriteLine($"latency: sockperf {args}, through the VIP (rs1 only) vs straight to rs1 at {_lab.DirectAddresses[0]}, io {string.Join(", ", _o.IoList)}");
        StartRealServers();
        var server = T.Start("rs1", "sockperf-rs1", "sockperf", "server", "--tcp", "-i", "0.0.0.0", "-p", LatencyPort.ToString(CultureInfo.InvariantCulture));
        Note($"sockperf server --tcp -i 0.0.0.0 -p {LatencyPort}   # rs1 (the agent running)");
        Note($"sockperf {args} -i ADDRESS   # client namespace, after an unmeasured 1 s run to the same address; ADDRESS = {_lab.DirectAddresses[0]} (direct) or VIP {BenchTopology.Vip} (kernel, tunlb-IO)");
        var runs = new List<LatencyRun>();
        try
        {
            for (int r = 0; r < _o.Rounds; r++)
            {
                int round = r;
                Each(runs, "latency direct", () => Ping(LatencyResult.Direct, round, _lab.DirectAddresses[0], Args));
                Each(runs, "latency kernel", () => { using (KernelPath()) return Ping(LatencyResult.Kernel, round, BenchTopology.Vip, Args); });
                foreach (var io in _o.IoList)
                    Each(runs, $"latency {TunlbMode.Name(io)}", () =>
                    {
                        var d = StartDirector($"director-rr-{io}", _lab.DirectorConfig("tcp", LatencyPort, io: io, reals: [_lab.RealServers[0]]));
                        try { return Ping(TunlbMode.Name(io), round, BenchTopology.Vip, Args); }
                        finally { StopDirector(d); }
                    });
            }
        }
        finally { server.Stop(); }
        var res = new LatencyResult("sockperf " + args, LatencyMessageBytes, runs);
        _o.Log.WriteLine("  added over direct (p50 / p99): " + string.Join(", ",
            res.Modes.Where(m => m != LatencyResult.Direct).Select(m => $"{m} {res.AddedP50(m):F1} / {res.AddedP99(m):F1} µs")));
        return res;
    }

    private LatencyRun Ping(string mode, int round, string address, Func<int, string[]> args)
    {
        // Unmeasured first run: JIT tiering, neighbour entries, the director's health check marking rs1 up.
        var sw = Stopwatch.StartNew();
        while (!Sockperf(address, args(1), out _) && sw.ElapsedMilliseconds < 15_000) Thread.Sleep(300);
        if (!Sockperf(address, args(_o.LatencySeconds), out var stdout))
            throw new InvalidOperationException($"sockperf to {address} ({mode}) failed:\n{stdout}");
        var run = ParseSockperf(mode, round, stdout);
        _o.Log.WriteLine($"  {mode,-15} round {round + 1}: {run.Observations:N0} round trips in {run.Seconds:F2} s, p50 {run.P50Us:F1} µs, p99 {run.P99Us:F1} µs, avg {run.AvgUs:F1} µs, max {run.MaxUs:F0} µs");
        return run;
    }

    private bool Sockperf(string address, string[] args, out string output)
    {
        int seconds = int.Parse(args[Array.IndexOf(args, "-t") + 1], CultureInfo.InvariantCulture);
        var r = T.Try("client", (seconds + 15) * 1000, ["timeout", "--signal=INT", (seconds + 10).ToString(CultureInfo.InvariantCulture), "sockperf", .. args, "-i", address]);
        output = r.Stdout + r.Stderr;
        return r.ExitCode == 0 && output.Contains("percentile 50.000", StringComparison.Ordinal);
    }

    /// <summary>Reads sockperf 3.x's summary (with --full-rtt the percentiles are round-trip times in µs).</summary>
    public static LatencyRun ParseSockperf(string mode, int round, string output)
    {
        double Num(string pattern)
        {
            var m = Regex.Match(output, pattern);
            if (!m.Success) throw new InvalidOperationException($"cannot find /{pattern}/ in sockperf output:\n{output}");
            return double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
        }
        return new LatencyRun(mode, round, (long)Num(@"Total (\d+) observations"), Num(@"\[Valid Duration\] RunTime=([\d.]+)"),
            Num(@"percentile 50\.000 =\s*([\d.]+)"), Num(@"percentile 99\.000 =\s*([\d.]+)"), Num(@"avg-rtt=([\d.]+)"),
            Num(@"<MAX> observation =\s*([\d.]+)"));
    }
}
