using TunLB.Core.Flows;
using TunLB.Core.Model;

namespace TunLB.Core.Scheduling;

/// <summary>
/// rr: hands new connections to the available destinations in turn (IPVS ip_vs_rr). Works directly on
/// the array passed to <see cref="Schedule"/>; the only state is the index of the last pick.
/// </summary>
internal sealed class RoundRobinScheduler : IScheduler
{
    // Index of the last destination picked; -1 before the first pick. Written by the scheduling thread,
    // bounds-checked on every read, so a torn or stale value can only cost fairness, never correctness.
    private int _last = -1;

    public string Name => SchedulerFactory.RoundRobin;
    public bool IsConsistentHash => false;

    public void Update(Destination[] destinations)
    {
        // Nothing is derived from the set; the cursor is clamped against the array at schedule time.
    }

    public Destination? Schedule(in FlowKey flow, Destination[] destinations)
    {
        int n = destinations.Length;
        int last = _last;
        if ((uint)last >= (uint)n) last = -1;
        int i = last;
        for (int k = 0; k < n; k++)
        {
            if (++i >= n) i = 0;
            Destination d = destinations[i];
            if (d is not null && d.IsAvailable)
            {
                _last = i;
                return d;
            }
        }
        return null;
    }
}
