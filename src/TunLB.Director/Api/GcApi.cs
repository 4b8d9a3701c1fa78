using System.Diagnostics;

namespace TunLB.Director.Api;

/// <summary>What <c>POST /api/v1/gc</c> did: the managed heap before and after, and how long the collection paused the process.</summary>
public sealed record GcResultDto(long HeapBeforeBytes, long HeapAfterBytes, double PauseMs);

/// <summary>
/// <c>POST /api/v1/gc</c>: a full blocking collection, the finalizers it queued, and a second collection for what they
/// released. Tells a leak (the heap after stays high) from garbage the GC has not needed to collect yet. It stops every
/// thread, the data-path workers too, for <see cref="GcResultDto.PauseMs"/> (tens of ms with a 1M-entry table): a
/// diagnostic, not something to poll.
/// </summary>
internal static class GcApi
{
    public const string Path = "/api/v1/gc";

    public static GcResultDto Collect()
    {
        long before = GC.GetTotalMemory(false);
        var sw = Stopwatch.StartNew();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers(); // closes the handles (pipes, sockets) that only a finalizer still held
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        return new GcResultDto(before, GC.GetTotalMemory(false), Math.Round(sw.Elapsed.TotalMilliseconds, 1));
    }
}
