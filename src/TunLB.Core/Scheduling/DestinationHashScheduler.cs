using TunLB.Core.Flows;
using TunLB.Core.Model;

namespace TunLB.Core.Scheduling;

/// <summary>
/// dh: destination hashing (IPVS ip_vs_dh). The flow's destination address is hashed with
/// <see cref="FlowHash"/> into the same 256-bucket weighted table as sh. An unavailable bucket owner means
/// no destination (null), as in IPVS, which has no fallback for dh. Note: IPVS dh gives every destination
/// one bucket per round regardless of weight; here weights count as in sh (equal weights behave the same).
/// </summary>
internal sealed class DestinationHashScheduler : IScheduler
{
    internal const ulong Seed = 0x4448_5F44_5354_4144UL; // "DH_DSTAD"

    private volatile HashBuckets _table = HashBuckets.Empty;

    public string Name => SchedulerFactory.DestinationHashing;
    public bool IsConsistentHash => true;
    internal HashBuckets Table => _table;

    public void Update(Destination[] destinations) => _table = HashBuckets.Build(destinations);

    public Destination? Schedule(in FlowKey flow, Destination[] destinations) =>
        _table.Lookup(FlowHash.Hash(flow.Destination, Seed), fallback: false);
}
