using TunLB.Core.Flows;
using TunLB.Core.Model;

namespace TunLB.Core.Scheduling;

/// <summary>
/// sh: source hashing (IPVS ip_vs_sh). The client address (and, with sh-port, the client port) is hashed
/// with <see cref="FlowHash"/> into a 256-bucket weighted table (<see cref="HashBuckets"/>). Without
/// sh-fallback an unavailable bucket owner means no destination (null), as in IPVS; with it other buckets
/// are probed. Schedule uses the table built by Update and ignores the array argument.
/// </summary>
internal sealed class SourceHashScheduler : IScheduler
{
    /// <summary>Fixed seed so every process and director hashes the same way.</summary>
    internal const ulong Seed = 0x5348_5F53_5243_4144UL; // "SH_SRCAD"

    private readonly bool _port;
    private readonly bool _fallback;
    private volatile HashBuckets _table = HashBuckets.Empty;

    public SourceHashScheduler(bool hashPort, bool fallback)
    {
        _port = hashPort;
        _fallback = fallback;
    }

    public string Name => SchedulerFactory.SourceHashing;
    public bool IsConsistentHash => true;
    internal bool HashesPort => _port;
    internal bool Fallback => _fallback;
    internal HashBuckets Table => _table;

    public void Update(Destination[] destinations) => _table = HashBuckets.Build(destinations);

    internal ulong HashOf(in FlowKey flow)
    {
        ulong h = FlowHash.Hash(flow.Source, Seed);
        return _port ? FlowHash.Combine(h, flow.SourcePort) : h;
    }

    public Destination? Schedule(in FlowKey flow, Destination[] destinations) =>
        _table.Lookup(HashOf(flow), _fallback);
}
