using TunLB.Core.Flows;
using TunLB.Core.Model;

namespace TunLB.Core.Scheduling;

/// <summary>
/// sed: the available destination minimising (active + 1) / weight, the delay a new connection can expect when
/// every active one is served in turn (IPVS ip_vs_sed; inactive connections do not count). With <c>nq</c>
/// (<see cref="NeverQueue"/>) an available destination with no active connection is taken at once, so no connection
/// waits while a server idles (IPVS ip_vs_nq). Ratios compare by cross-multiplication; ties go to the earliest.
/// </summary>
internal sealed class ShortestExpectedDelayScheduler(bool neverQueue) : IScheduler
{
    public bool NeverQueue { get; } = neverQueue;
    public string Name => NeverQueue ? SchedulerFactory.NeverQueue : SchedulerFactory.ShortestExpectedDelay;
    public bool IsConsistentHash => false;

    public void Update(Destination[] destinations) { }

    public Destination? Schedule(in FlowKey flow, Destination[] destinations)
    {
        Destination? least = null;
        ulong leastOverhead = 0;
        ulong leastWeight = 0;
        for (int i = 0; i < destinations.Length; i++)
        {
            Destination d = destinations[i];
            if (d is null) continue;
            int w = d.Weight; // read the volatile weight once per decision
            if (!SchedulerMath.IsAvailable(d, w)) continue;
            long active = d.ActiveConnections;
            if (active < 0) active = 0;
            if (NeverQueue && active == 0) return d;
            ulong oh = (ulong)active + 1;
            if (least is null ||
                Math.BigMul(leastOverhead, (ulong)w) > Math.BigMul(oh, leastWeight))
            {
                least = d;
                leastOverhead = oh;
                leastWeight = (ulong)w;
            }
        }
        return least;
    }
}
