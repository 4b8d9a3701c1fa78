using TunLB.Core.Flows;
using TunLB.Core.Model;

namespace TunLB.Core.Scheduling;

/// <summary>
/// lc: the available destination with the smallest connection overhead
/// (active*256 + inactive, as IPVS ip_vs_lc); ties go to the earliest in the array.
/// </summary>
internal sealed class LeastConnectionScheduler : IScheduler
{
    public string Name => SchedulerFactory.LeastConnection;
    public bool IsConsistentHash => false;

    public void Update(Destination[] destinations) { }

    public Destination? Schedule(in FlowKey flow, Destination[] destinations)
    {
        Destination? least = null;
        long leastOverhead = 0;
        for (int i = 0; i < destinations.Length; i++)
        {
            Destination d = destinations[i];
            if (d is null || !d.IsAvailable) continue;
            long oh = SchedulerMath.Overhead(d);
            if (least is null || oh < leastOverhead)
            {
                least = d;
                leastOverhead = oh;
            }
        }
        return least;
    }
}
