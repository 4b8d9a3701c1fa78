namespace TunLB.LabBench;

/// <summary>
/// The thresholds of issue #12 that the report's Targets table judges against. Each row's text and verdict read the
/// same constant, so a threshold is stated once and never disagrees with the verdict printed beside it.
/// </summary>
public static class Targets
{
    /// <summary>Default configuration, 64-byte UDP: delivered rate at least this times kernel forwarding on the same topology.</summary>
    public const double SmallPacketVsKernel = 1.0;
    /// <summary>HTTP 100 kB, rr: director CPU per request at most this times HAProxy's.</summary>
    public const double HttpCpuVsHaproxy = 0.15;
    /// <summary>HTTP 100 kB, rr: requests/s at least this times HAProxy's.</summary>
    public const double HttpRpsVsHaproxy = 1.2;
    /// <summary>Director's added request/response latency, p50, over the direct path, default io (µs).</summary>
    public const double AddedLatencyP50Us = 20;
    /// <summary>Real-server agents' CPU per packet at most this times the director's (HTTP run: same packets, so per request).</summary>
    public const double AgentVsDirectorCpu = 0.5;
    /// <summary>A requests/s ratio this close below its target (relative) is reported as within the noise of one short run.</summary>
    public const double RpsNoise = 0.05;

    private static string F(double v, string fmt) => Md.F(v, fmt);

    /// <summary>Verdict for "ratio ≥ target".</summary>
    public static string AtLeast(double ratio, double target) =>
        ratio >= target ? "met" : $"**missed** by {F(target - ratio, "F2")} (needs {F(target / Math.Max(ratio, 0.001), "F2")}× the current value)";

    /// <summary>Verdict for "ratio ≥ target" where a short run's noise is a few percent.</summary>
    public static string AtLeastWithNoise(double ratio, double target) =>
        ratio >= target ? "met" : ratio >= target * (1 - RpsNoise) ? $"within noise (< {F(RpsNoise * 100, "F0")}% below)" : $"**missed** by {F((1 - ratio / target) * 100, "F0")}%";

    /// <summary>Verdict for "ratio ≤ target".</summary>
    public static string AtMost(double ratio, double target) =>
        ratio <= target ? "met" : $"**missed** ({F(ratio / target, "F2")}× the allowed)";
}
