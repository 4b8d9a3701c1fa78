using TunLB.Core.Model;

namespace TunLB.Director.Workers;

/// <summary>
/// Tunnel packets and bytes each worker handed to the kernel. Slot i is written by worker i only (its sender's
/// cumulative totals after each batch), 8 longs apart so each worker has its own cache line; readers sum them.
/// </summary>
public sealed class TunnelSendTotals(int workers)
{
    private readonly long[] _packets = new long[WorkerStatsSet.MaxWorkers * 8], _bytes = new long[WorkerStatsSet.MaxWorkers * 8];

    /// <summary>Called by worker <paramref name="worker"/> after a send: its sender's cumulative totals.</summary>
    public void Report(int worker, long packets, long bytes)
    {
        Volatile.Write(ref _packets[worker * 8], packets);
        Volatile.Write(ref _bytes[worker * 8], bytes);
    }

    public long Packets { get { long s = 0; for (int w = 0; w < workers; w++) s += Volatile.Read(ref _packets[w * 8]); return s; } }
    public long Bytes { get { long s = 0; for (int w = 0; w < workers; w++) s += Volatile.Read(ref _bytes[w * 8]); return s; } }
}
