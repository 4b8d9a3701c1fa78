namespace TunLB.LabBench;

/// <summary>Settings of one namespace benchmark run.</summary>
/// <param name="Tunlb">How to run the tunlb CLI, e.g. ["/repo/src/TunLB.Cli/bin/Release/net10.0/tunlb"].</param>
/// <param name="Quick">Short, bounded runs for development (seconds instead of tens of seconds).</param>
/// <param name="Modes">The forwarding modes to run (kernel, tunlb-IO, tunlb-IO-2w); null = all.</param>
/// <param name="Ios">The director io backends to measure, the default first; null = <see cref="DefaultIos"/>.</param>
/// <param name="Workers">Worker counts for the forwarding scenario; null = 1 and 2.</param>
/// <param name="CpuSplit">Also measure each one-worker mode with the director pinned and the next hop's receive work moved off its CPU.</param>
public sealed record BenchOptions(string[] Tunlb, bool Quick, TextWriter Log, IReadOnlySet<string>? Only = null, IReadOnlySet<string>? Modes = null,
    IReadOnlyList<string>? Ios = null, IReadOnlyList<int>? Workers = null, bool CpuSplit = true, string Topology = BenchTopology.Flat,
    string Decap = "agent")
{
    public static readonly string[] DefaultIos = ["tun", "afpacket"];
    public IReadOnlyList<string> IoList => Ios ?? DefaultIos;
    public IEnumerable<(string Mode, string Io, int Workers)> TunlbModes =>
        from io in IoList from w in Workers ?? [1, 2] select (TunlbMode.Name(io, w), io, w);
    public int Rounds => Quick ? 1 : 2;
    public int ForwardSeconds => Quick ? 4 : 10;
    public long ForwardMaxPackets => Quick ? 3_000_000 : 10_000_000;
    public int HttpSeconds => Quick ? 5 : 10;
    public int LatencySeconds => Quick ? 3 : 5;
    /// <summary>One SYN per distinct flow of the generator (16 addresses x 64,511 ports): enough to fill a 1,000,000-entry table.</summary>
    public long ConnPackets => 1_032_176;
    /// <summary>Offered SYN rate: bounded so the fill measures the table, not the loss of an overrun capture queue.</summary>
    public int ConnRatePps => 100_000;
    public int ConnSeconds => (int)(ConnPackets / ConnRatePps) + 10;
    public bool Runs(string part) => Only is null || Only.Contains(part);
}

/// <summary>Mode names: "tunlb-IO" for one worker, "tunlb-IO-Nw" for N.</summary>
public static class TunlbMode
{
    public static string Name(string io, int workers = 1) => workers == 1 ? $"tunlb-{io}" : $"tunlb-{io}-{workers}w";
    public static bool Is(string mode) => mode.StartsWith("tunlb-", StringComparison.Ordinal);
    public static string Describe(string mode)
    {
        if (!Is(mode)) return mode;
        var parts = mode["tunlb-".Length..].Split('-');
        return $"io = {parts[0]}, workers = {(parts.Length > 1 ? parts[1].TrimEnd('w') : "1")}";
    }
}

/// <param name="Split">Director pinned to one CPU and RPS on the next hop's receiving veth (see <see cref="CpuSplit"/>).</param>
public sealed record ForwardingRound(string Mode, long Sent, long Delivered, double Seconds, double DeliveredPps,
    double LossPercent, double DirectorCpuSeconds, long TunQueueDrops, string? DirectorSummary, bool Split = false)
{
    public double CpuMicrosPerPacket => Delivered > 0 ? DirectorCpuSeconds / Delivered * 1e6 : 0;
}

/// <param name="DefaultMode">The first io given, one worker: what the report calls the default configuration.</param>
public sealed record ForwardingResult(int FrameBytes, int SourcePorts, List<ForwardingRound> Rounds, string DefaultMode = "tunlb-tun")
{
    public const string Kernel = "kernel";
    public IEnumerable<string> TunlbModes => Rounds.Where(r => TunlbMode.Is(r.Mode) && !r.Split).Select(r => r.Mode).Distinct();
    public double DefaultPps => Mean(DefaultMode);
    public double KernelPps => Mean(Kernel);
    /// <summary>The best TunLB configuration measured, and its rate.</summary>
    public string BestMode => TunlbModes.OrderByDescending(m => Mean(m)).FirstOrDefault() ?? DefaultMode;
    public double BestPps => Mean(BestMode);
    public double Ratio => KernelPps > 0 ? BestPps / KernelPps : 0;
    public double RatioOf(string mode) => KernelPps > 0 ? Mean(mode) / KernelPps : 0;
    public double Mean(string mode, bool split = false) { var r = Rounds.Where(x => x.Mode == mode && x.Split == split).ToList(); return r.Count == 0 ? 0 : r.Average(x => x.DeliveredPps); }
    public double CpuMicros(string mode, bool split)
    {
        var r = Rounds.Where(x => x.Mode == mode && x.Split == split && x.Delivered > 0).ToList();
        return r.Count == 0 ? 0 : r.Sum(x => x.DirectorCpuSeconds) / r.Sum(x => x.Delivered) * 1e6;
    }
}

/// <param name="AgentCpuSeconds">CPU of the real-server agents (sum over the `tunlb realserver` processes) over the run.</param>
/// <param name="Split">Director pinned to one CPU and RPS on the next hop's receiving veth.</param>
public sealed record HttpRun(string Mode, string Process, double RequestsPerSecond, long Requests, long Errors,
    double Seconds, double CpuSeconds, string WrkTransfer, double AgentCpuSeconds = 0, bool Split = false)
{
    public double CpuSecondsPer1000 => Requests > 0 ? CpuSeconds / Requests * 1000 : 0;
    public double AgentCpuSecondsPer1000 => Requests > 0 ? AgentCpuSeconds / Requests * 1000 : 0;
}

public sealed record HttpResult(string WrkArgs, int ResponseBytes, List<HttpRun> Runs)
{
    public IEnumerable<string> TunlbModes => Runs.Where(r => TunlbMode.Is(r.Mode) && !r.Split).Select(r => r.Mode).Distinct();
    /// <summary>The TunLB mode with the lower CPU per 1000 requests among those measured (as measured, not split).</summary>
    public string BestTunlbMode => TunlbModes.Where(m => Rps(m) > 0).OrderBy(m => CpuPer1000(m)).FirstOrDefault() ?? "tunlb-tun";

    public double Rps(string mode, bool split = false) { var r = Runs.Where(x => x.Mode == mode && x.Split == split).ToList(); return r.Count == 0 ? 0 : r.Average(x => x.RequestsPerSecond); }
    public double CpuPer1000(string mode, bool split = false) => Per1000(mode, split, x => x.CpuSeconds);
    public double AgentCpuPer1000(string mode, bool split = false) => Per1000(mode, split, x => x.AgentCpuSeconds);
    private double Per1000(string mode, bool split, Func<HttpRun, double> cpu)
    {
        var r = Runs.Where(x => x.Mode == mode && x.Split == split).ToList();
        long req = r.Sum(x => x.Requests);
        return req == 0 ? 0 : r.Sum(cpu) / req * 1000;
    }
}

public sealed record ConnSample(double Seconds, long Delivered, double PacketsPerSecond, long DirectorRssBytes);

public sealed record ConnRateResult(long Sent, long Delivered, double Seconds, double PacketsPerSecond, int DistinctFlows,
    List<ConnSample> Samples, long RssAtStart, long RssAtEnd, long TunQueueDrops, double DirectorCpuSeconds,
    long InTable, string Drops, string DirectorSummary, int OfferedPps);

/// <summary>One sockperf ping-pong run: round-trip times in microseconds.</summary>
/// <param name="Mode">"direct" (client to rs1, no load balancer), "kernel" (the director namespace forwards the VIP to rs1), or tunlb-IO.</param>
public sealed record LatencyRun(string Mode, int Round, long Observations, double Seconds, double P50Us, double P99Us, double AvgUs, double MaxUs);

public sealed record LatencyResult(string SockperfArgs, int MessageBytes, List<LatencyRun> Runs)
{
    public const string Direct = "direct", Kernel = "kernel";
    public IEnumerable<string> Modes => Runs.Select(r => r.Mode).Distinct();
    public double P50(string mode) => Avg(mode, r => r.P50Us);
    public double P99(string mode) => Avg(mode, r => r.P99Us);
    /// <summary>What the mode adds over the direct path: difference of the (round-averaged) percentiles.</summary>
    public double AddedP50(string mode) => P50(mode) - P50(Direct);
    public double AddedP99(string mode) => P99(mode) - P99(Direct);
    private double Avg(string mode, Func<LatencyRun, double> f) { var r = Runs.Where(x => x.Mode == mode).ToList(); return r.Count == 0 ? double.NaN : r.Average(f); }
}

/// <param name="Topology">"flat" or "routed" (see <see cref="BenchTopology"/>).</param>
public sealed record LabBenchResult(ForwardingResult? Forwarding, HttpResult? Http, ConnRateResult? ConnRate,
    List<string> Commands, List<string> Errors, string Topology = BenchTopology.Flat, LatencyResult? Latency = null,
    string? TopologyDescription = null, List<string>? Ios = null);
