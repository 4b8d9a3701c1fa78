using TunLB.Core.Model;
using TunLB.Core.Scheduling;
using TunLB.Director.Health;

namespace TunLB.Director.Management;

/// <summary>
/// The control plane's working copy of one virtual service, changed only under the state lock. The data path never
/// sees it: <see cref="Build"/> makes the immutable <see cref="VirtualService"/> (with a new scheduler instance) that a
/// publish hands to the engines, and readers see the <see cref="DirectorView"/> built at the same time.
/// </summary>
internal sealed class ServiceEntry(ServiceKey key)
{
    public ServiceKey Key { get; } = key;
    public string Scheduler = "wlc";
    public string[] Flags = [];
    public int MhTableSize = SchedulerFactory.DefaultMaglevTableSize;
    public int PersistenceSeconds;
    public int PersistencePrefix = 32;

    /// <summary>The real servers the data path schedules to (the sorry server too while it is in).</summary>
    public Destination[] Destinations = [];

    /// <summary>Counters, carried from each published version to the next.</summary>
    public readonly WorkerStatsSet Stats = new();
    public readonly RateEstimator Rates = new();
    public readonly ServiceHealthState Health = new();

    /// <summary>Set by any change the data path must see (destinations, weights, scheduler, persistence).</summary>
    public bool Dirty = true;

    /// <summary>The version last handed to the engines (null before the first publish).</summary>
    public VirtualService? Published;

    public string ProtocolName => Format.ProtocolName(Key.Protocol);

    /// <summary>A new immutable version for the data path: a fresh scheduler updated with the current destinations.</summary>
    public VirtualService Build() =>
        new(Key, SchedulerFactory.Create(Scheduler, new SchedulerOptions(MhTableSize, new HashSet<string>(Flags))), Destinations, Stats)
        {
            PersistenceSeconds = PersistenceSeconds,
            PersistencePrefix = PersistencePrefix,
        };

    public static string Describe(string sched, string[] flags) => flags.Length == 0 ? sched : $"{sched} ({string.Join(",", flags)})";

    public override string ToString() => $"{ProtocolName} {Format.Endpoint(Key.Vip, Key.Port)}";
}
