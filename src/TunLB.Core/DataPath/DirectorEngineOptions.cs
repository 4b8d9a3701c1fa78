using TunLB.Core.Connections;

namespace TunLB.Core.DataPath;

/// <summary>Construction-time settings of a <see cref="DirectorEngine"/>.</summary>
public sealed class DirectorEngineOptions
{
    /// <summary>Connection table size (connections plus persistence templates), preallocated.</summary>
    public int ConnectionCapacity { get; init; } = ConnectionTable.DefaultCapacity;

    /// <summary>What to do with a new flow when the table is full.</summary>
    public FullTablePolicy FullTablePolicy { get; init; } = FullTablePolicy.EvictOldest;

    /// <summary>Initial per-state timeouts; can be replaced later with <see cref="DirectorEngine.SetTimeouts"/>.</summary>
    public ConnTimeouts Timeouts { get; init; } = ConnTimeouts.Default;

    /// <summary>TTL of the outer (tunnel) header.</summary>
    public byte OuterTtl { get; init; } = 64;

    /// <summary>
    /// 0 or 1. When the packet was captured after a kernel forward step that decremented its TTL
    /// (TUN capture path), 1 restores the original TTL in the inner header.
    /// </summary>
    public byte InnerTtlIncrement { get; init; }

    /// <summary>
    /// Schedule TCP flows that start without a SYN (IPVS sloppy_tcp), e.g. flows taken over from another
    /// director. Off by default: a non-SYN segment without a connection entry is dropped.
    /// </summary>
    public bool SloppyTcp { get; init; }

    /// <summary>
    /// IPVS expire_quiescent_template: a persistence template whose destination has weight 0 is treated
    /// as stale, so the client is scheduled anew. Off by default (the client sticks to the quiescent server).
    /// </summary>
    public bool ExpireQuiescentTemplate { get; init; }

    /// <summary>Seed for the connection and service hash tables; null picks a random one.</summary>
    public ulong? HashSeed { get; init; }

    /// <summary>Answer ICMP / ICMPv6 echo requests to a VIP from the director (as the VIP).</summary>
    public bool AnswerPing { get; init; } = true;

    /// <summary>ICMP messages (echo replies, frag-needed, Packet Too Big) the director may generate per second.</summary>
    public int IcmpRatePerSecond { get; init; } = 100;

    /// <summary>ICMP messages that may be generated at once after a quiet period.</summary>
    public int IcmpBurst { get; init; } = 50;

    /// <summary>Fragmented datagrams tracked at once (see <see cref="FragmentTable"/>).</summary>
    public int FragmentTableCapacity { get; init; } = 16384;

    /// <summary>How long a fragmented datagram's destination is remembered after its last fragment.</summary>
    public long FragmentTimeoutMs { get; init; } = FragmentTable.DefaultTimeoutMs;

    /// <summary>
    /// This engine's data-path worker index (0 ≤ index &lt; <see cref="Model.WorkerStatsSet.MaxWorkers"/>): the slot
    /// it writes in the per-worker service and destination counters.
    /// </summary>
    public int WorkerIndex { get; init; }

    /// <summary>
    /// How many engines (workers) share the services and destinations. Above 1 the connection counters that lc/wlc
    /// read (active, inactive, persistent) change with Interlocked; with 1 they are plain increments.
    /// </summary>
    public int WorkerCount { get; init; } = 1;

    /// <summary>The SYN flood defence: rate, mode, short SYN_RECV timeout, half-open eviction fill (off by default).</summary>
    public SynFloodOptions SynFlood { get; init; } = SynFloodOptions.Off;
}
