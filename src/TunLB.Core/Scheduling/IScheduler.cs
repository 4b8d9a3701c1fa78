using TunLB.Core.Flows;
using TunLB.Core.Model;

namespace TunLB.Core.Scheduling;

/// <summary>
/// Picks a destination for a new connection, as an IPVS scheduler module does. Implementations are
/// internal sealed and created by <see cref="SchedulerFactory"/> from their ipvsadm names.
/// </summary>
public interface IScheduler
{
    /// <summary>The ipvsadm name: rr, wrr, lc, wlc, sh, dh, mh.</summary>
    string Name { get; }

    /// <summary>
    /// True when the choice depends only on the packet and the destination set (sh, dh, mh), so that
    /// directors sharing a VIP agree and a mid-flow packet can be scheduled without a connection entry.
    /// </summary>
    bool IsConsistentHash { get; }

    /// <summary>Rebuilds internal state for a new destination set or changed weights. Control plane only.</summary>
    void Update(Destination[] destinations);

    /// <summary>
    /// Returns the chosen destination, or null when none is available. Must not allocate.
    /// Only destinations with <see cref="Destination.IsAvailable"/> may be returned.
    /// </summary>
    Destination? Schedule(in FlowKey flow, Destination[] destinations);
}
