namespace TunLB.LabBench;

/// <summary>Settings of one namespace benchmark run.</summary>
/// <param name="Tunlb">How to run the tunlb CLI, e.g. ["/repo/src/TunLB.Cli/bin/Release/net10.0/tunlb"].</param>
/// <param name="Quick">Short, bounded runs for development (seconds instead of tens of seconds).</param>
/// <param name="Modes">The forwarding modes to run (kernel, tunlb, tunlb-2w, tunlb-afpacket, tunlb-afpacket-2w); null = all.</param>
public sealed record BenchOptions(string[] Tunlb, bool Quick, TextWriter Log, IReadOnlySet<string>? Only = null, IReadOnlySet<string>? Modes = null)
{
    public int Rounds => Quick ? 1 : 2;
    public int ForwardSeconds => Quick ? 4 : 10;
    public long ForwardMaxPackets => Quick ? 3_000_000 : 10_000_000;
    public int HttpSeconds => Quick ? 5 : 10;
    /// <summary>One SYN per distinct flow of the generator (16 addresses x 64,511 ports): enough to fill a 1,000,000-entry table.</summary>
    public long ConnPackets => 1_032_176;
    /// <summary>Offered SYN rate: bounded so the fill measures the table, not the loss of an overrun capture queue.</summary>
    public int ConnRatePps => 100_000;
    public int ConnSeconds => (int)(ConnPackets / ConnRatePps) + 10;
    public bool Runs(string part) => Only is null || Only.Contains(part);
}

public sealed record ForwardingRound(string Mode, long Sent, long Delivered, double Seconds, double DeliveredPps,
    double LossPercent, double DirectorCpuSeconds, long TunQueueDrops, string? DirectorSummary);

public sealed record ForwardingResult(int FrameBytes, int SourcePorts, List<ForwardingRound> Rounds)
{
    public const string Kernel = "kernel";
    /// <summary>The TunLB configurations measured: mode name, io backend, workers. "tunlb" is the default configuration.</summary>
    public static readonly (string Mode, string Io, int Workers)[] TunlbModes =
        [("tunlb", "tun", 1), ("tunlb-2w", "tun", 2), ("tunlb-afpacket", "afpacket", 1), ("tunlb-afpacket-2w", "afpacket", 2)];
    public static string Describe(string mode) =>
        TunlbModes.FirstOrDefault(m => m.Mode == mode) is { Mode: not null } m ? $"io = {m.Io}, workers = {m.Workers}" : mode;
    /// <summary>TunLB with the default configuration (io = "tun", one worker).</summary>
    public double TunlbPps => Mean("tunlb");
    public double KernelPps => Mean(Kernel);
    /// <summary>The best TunLB configuration measured, and its rate.</summary>
    public string BestMode => TunlbModes.Select(m => m.Mode).Where(m => Rounds.Any(r => r.Mode == m)).OrderByDescending(Mean).FirstOrDefault() ?? "tunlb";
    public double BestPps => Mean(BestMode);
    public double Ratio => KernelPps > 0 ? BestPps / KernelPps : 0;
    public double RatioOf(string mode) => KernelPps > 0 ? Mean(mode) / KernelPps : 0;
    public double Mean(string mode) { var r = Rounds.Where(x => x.Mode == mode).ToList(); return r.Count == 0 ? 0 : r.Average(x => x.DeliveredPps); }
}

public sealed record HttpRun(string Mode, string Process, double RequestsPerSecond, long Requests, long Errors,
    double Seconds, double CpuSeconds, string WrkTransfer)
{
    public double CpuSecondsPer1000 => Requests > 0 ? CpuSeconds / Requests * 1000 : 0;
}

public sealed record HttpResult(string WrkArgs, int ResponseBytes, List<HttpRun> Runs)
{
    /// <summary>The TunLB mode ("tunlb" = io tun, "tunlb-afpacket") with the lower CPU per 1000 requests among those measured.</summary>
    public string BestTunlbMode =>
        new[] { "tunlb", "tunlb-afpacket" }.Where(m => Rps(m) > 0).OrderBy(CpuPer1000).FirstOrDefault() ?? "tunlb";

    public double Rps(string mode) { var r = Runs.Where(x => x.Mode == mode).ToList(); return r.Count == 0 ? 0 : r.Average(x => x.RequestsPerSecond); }
    public double CpuPer1000(string mode)
    {
        var r = Runs.Where(x => x.Mode == mode).ToList();
        long req = r.Sum(x => x.Requests);
        return req == 0 ? 0 : r.Sum(x => x.CpuSeconds) / req * 1000;
    }
}

public sealed record ConnSample(double Seconds, long Delivered, double PacketsPerSecond, long DirectorRssBytes);

public sealed record ConnRateResult(long Sent, long Delivered, double Seconds, double PacketsPerSecond, int DistinctFlows,
    List<ConnSample> Samples, long RssAtStart, long RssAtEnd, long TunQueueDrops, double DirectorCpuSeconds,
    long InTable, string Drops, string DirectorSummary, int OfferedPps);

public sealed record LabBenchResult(ForwardingResult? Forwarding, HttpResult? Http, ConnRateResult? ConnRate,
    List<string> Commands, List<string> Errors);
