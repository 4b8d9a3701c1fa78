using TunLB.Core.DataPath;

namespace TunLB.Director.Management;

/// <summary>The SYN flood defence's counters summed over the workers (API stats, /metrics, exit summary).</summary>
public sealed record SynFloodTotals(
    int WorkersActive, long Engagements, long EvictedHalfOpen, int HalfOpen, long StatelessScheduled, long StatelessAdopted)
{
    public static SynFloodTotals Of(IEnumerable<DirectorEngine> engines)
    {
        int active = 0, halfOpen = 0;
        long engagements = 0, evicted = 0, scheduled = 0, adopted = 0;
        foreach (var e in engines)
        {
            if (e.SynFlood.Active) active++;
            engagements += e.SynFlood.Engagements;
            evicted += e.Connections.EvictedHalfOpen;
            halfOpen += e.Connections.HalfOpenCount;
            scheduled += e.StatelessScheduled;
            adopted += e.StatelessAdopted;
        }
        return new SynFloodTotals(active, engagements, evicted, halfOpen, scheduled, adopted);
    }
}
