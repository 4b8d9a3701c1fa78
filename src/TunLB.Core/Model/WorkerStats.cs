using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace TunLB.Core.Model;

/// <summary>
/// One data-path worker's share of a service's or destination's cumulative counters (IPVS keeps the same
/// per CPU). 64 bytes, so two workers never write the same cache line.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 64)]
public struct WorkerStats
{
    [FieldOffset(0)] public long Connections;
    [FieldOffset(8)] public long InPackets;
    [FieldOffset(16)] public long InBytes;
    /// <summary>TCP flows first seen mid-flow (no SYN) and scheduled anyway: taken over from another director.</summary>
    [FieldOffset(24)] public long Adopted;
}

/// <summary>
/// Per-worker cumulative counters: each worker increments its own slot with plain writes (no atomics, no shared
/// cache line); readers sum the slots. A read is approximate while workers run (each slot is one untorn 64-bit
/// read), as IPVS's per-CPU stats. Always <see cref="MaxWorkers"/> slots, 4 KiB per service or real server, so a
/// slot index never depends on the configured worker count.
/// </summary>
public sealed class WorkerStatsSet
{
    /// <summary>The largest number of data-path workers (the <c>workers</c> setting is validated against it).</summary>
    public const int MaxWorkers = 64;

    private readonly WorkerStats[] _slots = new WorkerStats[MaxWorkers];

    /// <summary>Worker <paramref name="worker"/>'s slot (0 ≤ worker &lt; <see cref="MaxWorkers"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ref WorkerStats Slot(int worker) => ref _slots[worker];

    public long Connections { get { long s = 0; foreach (ref readonly var x in _slots.AsSpan()) s += Volatile.Read(in x.Connections); return s; } }
    public long InPackets { get { long s = 0; foreach (ref readonly var x in _slots.AsSpan()) s += Volatile.Read(in x.InPackets); return s; } }
    public long InBytes { get { long s = 0; foreach (ref readonly var x in _slots.AsSpan()) s += Volatile.Read(in x.InBytes); return s; } }
    public long Adopted { get { long s = 0; foreach (ref readonly var x in _slots.AsSpan()) s += Volatile.Read(in x.Adopted); return s; } }

    /// <summary>Zeroes one worker's slot; call on that worker's thread so no increment is lost or resurrected.</summary>
    public void Zero(int worker) => _slots[worker] = default;

    /// <summary>Sets the totals (control plane, tests): slot 0 takes the values, the others are zeroed.</summary>
    internal void SetTotals(long? connections, long? packets, long? bytes)
    {
        for (int i = 0; i < _slots.Length; i++)
        {
            ref var s = ref _slots[i];
            if (connections is { } c) s.Connections = i == 0 ? c : 0;
            if (packets is { } p) s.InPackets = i == 0 ? p : 0;
            if (bytes is { } b) s.InBytes = i == 0 ? b : 0;
        }
    }
}
