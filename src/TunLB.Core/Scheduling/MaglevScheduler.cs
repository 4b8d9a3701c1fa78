using TunLB.Core.Flows;
using TunLB.Core.Model;

namespace TunLB.Core.Scheduling;

/// <summary>
/// mh: Maglev hashing (IPVS ip_vs_mh) over a <see cref="MaglevTable"/> of prime size M.
/// The lookup key is the client address (IPVS default) or, with mh-port, address and port. Without
/// mh-fallback an unavailable slot owner means no destination (null), as in IPVS. With mh-fallback the
/// key is rehashed with increasing offsets (as IPVS does) for up to <see cref="FallbackProbes"/> probes;
/// if those all land on unavailable destinations, the first available destination in canonical order
/// starting from a hash-chosen position is taken, which keeps the choice deterministic and the cost bounded.
/// Schedule uses the table built by Update and ignores the array argument.
/// </summary>
internal sealed class MaglevScheduler : IScheduler
{
    internal const ulong LookupSeed = 0x4D47_4C56_4C4B_5550UL; // "MGLVLKUP"
    internal const int FallbackProbes = 32;

    private readonly int _size;
    private readonly bool _port;
    private readonly bool _fallback;
    private volatile MaglevTable _table;

    public MaglevScheduler(int tableSize, bool hashPort, bool fallback)
    {
        SchedulerFactory.ValidateMaglevTableSize(tableSize);
        _size = tableSize;
        _port = hashPort;
        _fallback = fallback;
        _table = MaglevTable.Empty(tableSize);
    }

    public string Name => SchedulerFactory.MaglevHashing;
    public bool IsConsistentHash => true;
    internal int TableSize => _size;
    internal bool HashesPort => _port;
    internal bool Fallback => _fallback;

    /// <summary>The current table (for tests and tools).</summary>
    internal MaglevTable Current => _table;

    public void Update(Destination[] destinations) => _table = MaglevTable.Build(destinations, _size);

    internal ulong HashOf(in FlowKey flow)
    {
        ulong h = FlowHash.Hash(flow.Source, LookupSeed);
        return _port ? FlowHash.Combine(h, flow.SourcePort) : h;
    }

    /// <summary>Maps a 64-bit hash onto [0, range) by multiply-high (unbiased enough, no division).</summary>
    private static int Reduce(ulong hash, int range) => (int)Math.BigMul(hash, (ulong)(uint)range, out _);

    /// <summary>The table slot a flow maps to (before any fallback).</summary>
    internal int SlotOf(in FlowKey flow) => Reduce(HashOf(flow), _size);

    public Destination? Schedule(in FlowKey flow, Destination[] destinations)
    {
        MaglevTable t = _table;
        Destination[] dests = t.Destinations;
        if (dests.Length == 0) return null;
        int[] table = t.Table;
        ulong h = HashOf(flow);

        Destination d = dests[table[Reduce(h, table.Length)]];
        if (d.IsAvailable) return d;
        if (!_fallback) return null;

        for (ulong k = 1; k <= FallbackProbes; k++)
        {
            d = dests[table[Reduce(FlowHash.Combine(h, k), table.Length)]];
            if (d.IsAvailable) return d;
        }

        int n = dests.Length;
        int start = Reduce(FlowHash.Mix(h), n);
        for (int j = 0; j < n; j++)
        {
            int i = start + j;
            if (i >= n) i -= n;
            if (dests[i].IsAvailable) return dests[i];
        }
        return null;
    }
}
