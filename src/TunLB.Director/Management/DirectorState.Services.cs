using TunLB.Control.Configuration;
using TunLB.Core.Flows;
using TunLB.Core.Model;
using TunLB.Director.Health;

namespace TunLB.Director.Management;

// Services and real servers: ipvsadm -A -E -D -C -a -e -d, with validated input (the API validates).
public sealed partial class DirectorState
{
    private ServiceEntry? Find(ServiceKey key)
    {
        foreach (var e in _entries) if (e.Key == key) return e;
        return null;
    }

    private ServiceEntry Get(ServiceKey key) => Find(key)
        ?? throw new ManagementException(ManagementError.NotFound, "vip", $"no service {Format.ProtocolName(key.Protocol)} {Format.Endpoint(key.Vip, key.Port)}");

    private static Destination GetReal(ServiceEntry e, IpAddress address, ushort port) =>
        e.Destinations.FirstOrDefault(d => d.Address == address && d.Port == port)
        ?? throw new ManagementException(ManagementError.NotFound, "address", $"no real server {Format.Endpoint(address, port)} in service {e}");

    public ServiceView AddService(ServiceDefinition s)
    {
        Change(() =>
    {
        if (Find(s.Key) is { } existing) throw new ManagementException(ManagementError.Conflict, "vip", $"service {existing} already exists");
        var e = new ServiceEntry(s.Key)
        {
            Scheduler = s.Scheduler, Flags = s.Flags, MhTableSize = s.MhTableSize,
            PersistenceSeconds = s.PersistenceSeconds, PersistencePrefix = s.PersistencePrefix,
        };
        _entries.Add(e);
        _o.Log($"tunlb director: api: added service {e} scheduler {s.Scheduler}");
        return 0;
        });
        return _view.Find(s.Key)!;
    }

    public ServiceView EditService(ServiceKey key, ServiceChange c)
    {
        Change(() =>
    {
        var e = Get(key);
        var sched = c.Scheduler ?? e.Scheduler;
        // Flags not given: keep those that still fit the (possibly new) scheduler.
        var flags = c.Flags ?? e.Flags.Where(f => f.StartsWith(sched + "-", StringComparison.Ordinal)).ToArray();
        int mh = c.MhTableSize ?? e.MhTableSize;
        int persistence = c.PersistenceSeconds ?? e.PersistenceSeconds;
        int prefix = c.PersistencePrefix ?? e.PersistencePrefix;
        if (key.Port == 0 && persistence == 0)
            throw new ManagementException(ManagementError.Invalid, "persistence", "a port-0 (all ports) service needs persistence > 0");
        var changes = new List<string>();
        if (sched != e.Scheduler || !flags.SequenceEqual(e.Flags) || mh != e.MhTableSize)
        {
            changes.Add($"scheduler {ServiceEntry.Describe(e.Scheduler, e.Flags)} -> {ServiceEntry.Describe(sched, flags)}" + (mh != e.MhTableSize ? $" mh_table_size {mh}" : ""));
            (e.Scheduler, e.Flags, e.MhTableSize) = (sched, flags, mh);
        }
        if (persistence != e.PersistenceSeconds) { changes.Add($"persistence {e.PersistenceSeconds} -> {persistence}"); e.PersistenceSeconds = persistence; }
        if (prefix != e.PersistencePrefix) { changes.Add($"persistence_netmask /{e.PersistencePrefix} -> /{prefix}"); e.PersistencePrefix = prefix; }
        if (changes.Count > 0)
        {
            e.Dirty = true;
            _o.Log($"tunlb director: api: edited service {e}: {string.Join(", ", changes)}");
        }
        return 0;
        });
        return _view.Find(key)!;
    }

    public void DeleteService(ServiceKey key) => Change(() =>
    {
        var e = Get(key);
        _entries.Remove(e);
        Retire(e.Destinations);
        _o.Log($"tunlb director: api: deleted service {e}");
        return 0;
    });

    /// <summary>ipvsadm -C: deletes every service.</summary>
    public void Clear() => Change(() =>
    {
        foreach (var e in _entries) Retire(e.Destinations);
        int n = _entries.Count;
        _entries.Clear();
        _o.Log($"tunlb director: api: deleted all {n} service(s)");
        return 0;
    });

    private void Retire(IEnumerable<Destination> dests)
    {
        foreach (var d in dests) { d.Alive = false; _health.Untrack(d); }
    }

    /// <summary>
    /// ipvsadm -a. The route toward the real is resolved before the lock is taken; the real reaches the data path with
    /// the service's next version, so no worker can schedule to it before it knows its id.
    /// </summary>
    public RealView AddReal(ServiceKey key, RealServerSettings r)
    {
        IpAddress source;
        try { source = _reals.SourceToward(r.Address); }
        catch (Exception ex) { throw new ManagementException(ManagementError.Invalid, "address", $"no route to {r.Address}: {ex.Message}"); }
        int routeMtu = r.Mtu != 0 ? r.Mtu : _reals.PathMtu(r.Address);
        var id = Change(() =>
        {
            var e = Get(key);
            if (e.Destinations.FirstOrDefault(d => d.Address == r.Address) is { } dup)
                throw new ManagementException(ManagementError.Conflict, "address", $"real server {Format.Endpoint(dup.Address, dup.Port)} already exists in service {e} " +
                                                                    "(tunnel mode does not rewrite ports, so one address is one server)");
            var d = _reals.Create(r with { Mtu = routeMtu }, source);
            e.Destinations = [.. e.Destinations, d];
            e.Dirty = true;
            Track(e, d, r.Weight);
            _availability.EvaluateQuorum(e);
            _o.Log($"tunlb director: api: added real {Format.Endpoint(r.Address, r.Port)} weight {r.Weight} to service {e}");
            return d.Id;
        });
        return FindView(key, id);
    }

    public RealView EditReal(ServiceKey key, IpAddress address, ushort port, RealChange c)
    {
        var id = Change(() =>
        {
            var e = Get(key);
            var d = GetReal(e, address, port);
            if (c.Encap is { } encap)
            {
                d.Encap = encap;
                if (c.GuePort is { } gp) d.GuePort = gp;
                if (c.GueChecksum is { } gc) d.GueChecksum = gc;
            }
            int configured = _health.ConfiguredWeight(d);
            int weight = c.Weight ?? configured;
            int upper = c.UpperThreshold ?? d.UpperThreshold, lower = c.LowerThreshold ?? d.LowerThreshold;
            if (upper > 0 && lower > upper)
                throw new ManagementException(ManagementError.Invalid, "lower_threshold", $"lower_threshold {lower} is above upper_threshold {upper}");
            var changes = new List<string>();
            if (upper != d.UpperThreshold || lower != d.LowerThreshold)
            {
                changes.Add($"thresholds {d.UpperThreshold}/{d.LowerThreshold} -> {upper}/{lower}");
                d.UpperThreshold = upper; d.LowerThreshold = lower;
            }
            if (weight != configured)
            {
                _availability.SetConfiguredWeight(d, weight);
                changes.Add($"weight {configured} -> {weight}" + (d.Weight != weight ? $" (effective {d.Weight}: health/drain)" : ""));
                RecordEvent(EventKinds.Weight, EventKinds.ServiceName(e.Key), EventKinds.RealName(d.Address, d.Port), changes[^1]);
                _availability.EvaluateQuorum(e);
                e.Dirty = true; // established flows keep their server; only new scheduling decisions move
            }
            if (changes.Count > 0) _o.Log($"tunlb director: api: edited real {Format.Endpoint(d.Address, d.Port)} in service {e}: {string.Join(", ", changes)}");
            return d.Id;
        });
        return FindView(key, id);
    }

    public void DeleteReal(ServiceKey key, IpAddress address, ushort port) => Change(() =>
    {
        var e = Get(key);
        var d = GetReal(e, address, port);
        d.Alive = false; // its connections stop (DestinationGone); a new SYN is scheduled afresh
        _health.Untrack(d);
        e.Destinations = e.Destinations.Where(x => !ReferenceEquals(x, d)).ToArray();
        e.Dirty = true;
        _availability.EvaluateQuorum(e);
        _o.Log($"tunlb director: api: deleted real {Format.Endpoint(d.Address, d.Port)} from service {e}");
        return 0;
    });

    /// <summary>The published view of real <paramref name="id"/> of service <paramref name="key"/> (a deleted real: its last view).</summary>
    private RealView FindView(ServiceKey key, int id)
    {
        if (InBatch) return null!; // nothing is published before the batch ends; batch callers take no views
        var s = _view.Find(key);
        return s?.Reals.FirstOrDefault(r => r.Dest.Id == id) ?? (s?.StandbySorry is { } sorry && sorry.Dest.Id == id ? sorry : null)
               ?? throw new ManagementException(ManagementError.NotFound, "address", "the real server is gone");
    }
}
