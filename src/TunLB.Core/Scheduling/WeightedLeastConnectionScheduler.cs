using TunLB.Core.Flows;
using TunLB.Core.Model;

namespace TunLB.Core.Scheduling;

/// <summary>
/// wlc: the available destination minimising overhead/weight (IPVS ip_vs_wlc). The ratios are compared
/// by cross-multiplication, overhead(a)*weight(b) &gt; overhead(b)*weight(a), in 128-bit arithmetic so
/// that large counters and weights cannot overflow. Ties go to the earliest in the array.
/// </summary>
internal sealed class WeightedLeastConnectionScheduler : IScheduler
{
    public string Name => SchedulerFactory.WeightedLeastConnection;
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
            ulong oh = (ulong)SchedulerMath.Overhead(d);
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
