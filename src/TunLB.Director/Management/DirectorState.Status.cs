namespace TunLB.Director.Management;

// What the status page shows of the director itself, beyond the view: start time and the capture's own counters.
public sealed partial class DirectorState
{
    /// <summary>When this state was made (the director's start).</summary>
    public DateTimeOffset StartedAt { get; } = DateTimeOffset.UtcNow;

    /// <summary>The capture backend's counters (ring and queue drops) as one line; set by the runtime, empty in tests.</summary>
    public Func<string>? CaptureSummary { get; set; }

    /// <summary>The capture backend's counters as numbers (/metrics); null for tun and in tests.</summary>
    public Func<TunLB.Linux.CaptureCounters?>? CaptureCounters { get; set; }
}
