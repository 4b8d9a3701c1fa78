using TunLB.Core.Scheduling;

namespace TunLB.Core.Model;

/// <summary>
/// One virtual service (VIP:port/protocol) as the data path sees it: its destinations, its scheduler (already
/// updated with exactly those destinations) and its persistence. Immutable once built: the control plane builds a new
/// one for every change, off to the side, and publishes it with the destination registry in one snapshot swap
/// (<see cref="DataPath.DirectorEngine.SetServices"/>), so a scheduler can never pick a destination the data path
/// does not know yet. The counters (<see cref="Stats"/>) carry over from version to version.
/// </summary>
public sealed class VirtualService
{
    /// <param name="scheduler">A scheduler instance of this service alone: it is updated with <paramref name="destinations"/> here.</param>
    /// <param name="stats">The counters of the previous version of this service; null starts at zero.</param>
    public VirtualService(ServiceKey key, IScheduler scheduler, Destination[] destinations, WorkerStatsSet? stats = null)
    {
        ArgumentNullException.ThrowIfNull(scheduler);
        ArgumentNullException.ThrowIfNull(destinations);
        Key = key;
        Scheduler = scheduler;
        Destinations = destinations;
        Stats = stats ?? new WorkerStatsSet();
        scheduler.Update(destinations);
    }

    public ServiceKey Key { get; }

    public Destination[] Destinations { get; }

    public IScheduler Scheduler { get; }

    /// <summary>Persistence timeout in seconds (ipvsadm -p); 0 = off.</summary>
    public int PersistenceSeconds { get; init; }

    /// <summary>Client netmask prefix length for persistence (ipvsadm -M); 32 for IPv4 = per client.</summary>
    public int PersistencePrefix { get; init; } = 32;

    /// <summary>Service counters (IPVS stats), one slot per data-path worker; each worker writes only its own.</summary>
    public WorkerStatsSet Stats { get; }

    /// <summary>Connections scheduled for this service, summed over workers. Setting it sets the total (tests).</summary>
    public long Connections { get => Stats.Connections; set => Stats.SetTotals(value, null, null); }
    public long InPackets { get => Stats.InPackets; set => Stats.SetTotals(null, value, null); }
    public long InBytes { get => Stats.InBytes; set => Stats.SetTotals(null, null, value); }
    /// <summary>TCP flows adopted without a SYN (sloppy_tcp), summed over workers.</summary>
    public long Adopted => Stats.Adopted;

    public override string ToString() => Key.ToString();
}
