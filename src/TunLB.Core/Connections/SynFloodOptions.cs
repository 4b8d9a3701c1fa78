namespace TunLB.Core.Connections;

/// <summary>What the SYN flood defence does while engaged (<c>syn_flood_mode</c>); the two can be combined.</summary>
[Flags]
public enum SynFloodMode : byte
{
    None = 0,
    /// <summary>New SYN_RECV entries time out after <see cref="SynFloodOptions.ShortSynRecvMs"/> (IPVS secure_tcp).</summary>
    ShortSynRecv = 1,
    /// <summary>
    /// New SYNs are scheduled by a hash of the flow and not inserted (Katran); the handshake's ACK is scheduled by the
    /// same hash and inserted, so the flow lands where its SYN went.
    /// </summary>
    Stateless = 2,
}

/// <summary>Settings of one worker's <see cref="SynFloodGuard"/>.</summary>
public sealed record SynFloodOptions
{
    /// <summary>New TCP connections (SYNs without an entry) per second above which the defence engages; 0 = never.</summary>
    public int RatePerSecond { get; init; }

    public SynFloodMode Mode { get; init; } = SynFloodMode.ShortSynRecv;

    /// <summary>The SYN_RECV timeout while engaged with <see cref="SynFloodMode.ShortSynRecv"/>.</summary>
    public long ShortSynRecvMs { get; init; } = 5_000;

    /// <summary>
    /// Share of the connection table (0 &lt; f ≤ 1) from which every new entry evicts the oldest half-open (SYN_RECV)
    /// entry first (<see cref="ConnectionTable.HalfOpenEvictionThreshold"/>); 0 = never (the full-table policy alone).
    /// </summary>
    public double HalfOpenEvictFill { get; init; }

    public static SynFloodOptions Off { get; } = new();
}
