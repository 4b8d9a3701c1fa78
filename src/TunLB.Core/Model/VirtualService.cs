using TunLB.Core.Scheduling;

namespace TunLB.Core.Model;

/// <summary>
/// One virtual service (VIP:port/protocol) with its destinations and scheduler. The destination
/// array is replaced as a whole (copy-on-write) by the control plane; the data path reads it.
/// </summary>
public sealed class VirtualService
{
    public VirtualService(ServiceKey key, IScheduler scheduler, Destination[] destinations)
    {
        Key = key; _scheduler = scheduler; _destinations = destinations;
        scheduler.Update(destinations);
    }

    public ServiceKey Key { get; }

    private volatile Destination[] _destinations;
    private volatile IScheduler _scheduler;

    public Destination[] Destinations => _destinations;
    public IScheduler Scheduler => _scheduler;

    /// <summary>Persistence timeout in seconds (ipvsadm -p); 0 = off.</summary>
    public int PersistenceSeconds;
    /// <summary>Client netmask prefix length for persistence (ipvsadm -M); 32 for IPv4 = per client.</summary>
    public int PersistencePrefix = 32;

    /// <summary>Service counters (IPVS stats), one slot per data-path worker; each worker writes only its own.</summary>
    public WorkerStatsSet Stats { get; } = new();

    /// <summary>Connections scheduled for this service, summed over workers. Setting it sets the total (tests).</summary>
    public long Connections { get => Stats.Connections; set => Stats.SetTotals(value, null, null); }
    public long InPackets { get => Stats.InPackets; set => Stats.SetTotals(null, value, null); }
    public long InBytes { get => Stats.InBytes; set => Stats.SetTotals(null, null, value); }

    /// <summary>Replaces the destination set and rebuilds the scheduler state (control plane only).</summary>
    public void SetDestinations(Destination[] destinations)
    {
        _scheduler.Update(destinations);
        _destinations = destinations;
    }

    public void SetScheduler(IScheduler scheduler)
    {
        scheduler.Update(_destinations);
        _scheduler = scheduler;
    }

    /// <summary>Call after changing a destination's weight so weight-derived tables (wrr, sh, dh, mh) follow.</summary>
    public void WeightsChanged() => _scheduler.Update(_destinations);

    public override string ToString() => Key.ToString();
}
