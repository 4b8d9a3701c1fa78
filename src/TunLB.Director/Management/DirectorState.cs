using TunLB.Control.Configuration;
using TunLB.Core.Connections;
using TunLB.Core.DataPath;
using TunLB.Core.Egress;
using TunLB.Core.Flows;
using TunLB.Core.Model;
using TunLB.Core.Packets;
using TunLB.Director.Health;
using TunLB.Director.Workers;

namespace TunLB.Director.Management;

/// <summary>
/// The director's control plane, without I/O: every change (API, reload, health) goes through one of its typed
/// operations, under one lock, on a working copy of the services (<see cref="ServiceEntry"/>), and ends with one
/// publish: a new immutable <see cref="VirtualService"/> for each changed service handed to every engine in one
/// snapshot swap, and a new <see cref="DirectorView"/> for readers. Nothing the data path or a reader holds is changed
/// in place, except the runtime state of a <see cref="Destination"/> (effective weight, health flags, counters).
/// </summary>
/// <remarks>
/// The work is done by parts that each do one thing: <see cref="RealServerFactory"/> makes destinations,
/// <see cref="ReloadPlanner"/> diffs a reload, <see cref="HealthBook"/> judges check results, <see cref="Availability"/>
/// turns health, drain and quorum into weights, <see cref="WorkerCommandQueue"/> runs work on the data-path threads and
/// <see cref="RateBook"/> keeps the estimators. Validation of API input, DTOs and HTTP errors are the API's
/// (<see cref="Api.DirectorApi"/>); this class throws <see cref="ManagementException"/>.
/// <para>Workers. With <c>workers = N</c> there are N engines, one per data-path worker, each with its own connection
/// table (conn_max / N entries), fragment table and drop counters; they share the published services.</para>
/// </remarks>
public sealed partial class DirectorState
{
    private readonly object _gate = new();
    private readonly DirectorStateOptions _o;
    private readonly List<ServiceEntry> _entries = new();
    private readonly RealServerFactory _reals;
    private readonly HealthBook _health;
    private readonly Availability _availability;
    private readonly RateBook _rates = new();
    private VirtualService[] _published = [];
    private volatile DirectorView _view;
    private long _version;

    public DirectorState(DirectorConfig cfg, DirectorStateOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(cfg);
        _o = options ?? new DirectorStateOptions();
        _reals = new RealServerFactory(_o);
        _health = new HealthBook(_o.Time, _o.Log, _o.Events);
        _availability = new Availability(_health, _reals, _o.Time, _o);
        var d = cfg.Director;
        _settings = d;
        EgressResults.SetMetadata(cfg.Services.SelectMany(s => s.Reals));
        ConfigPath = cfg.SourcePath;
        Engines = EngineFactory.Create(d, _o.HashSeed ?? (ulong)Random.Shared.NextInt64());
        Commands = new WorkerCommandQueue(Engines.Length, _o.WorkerTimeout);
        Sent = new TunnelSendTotals(Engines.Length);
        lock (_gate)
        {
            foreach (var s in cfg.Services)
            {
                var e = NewEntry(s);
                foreach (var r in s.Reals) e.Destinations = [.. e.Destinations, _reals.Create(r.Settings(), _reals.SourceToward(r.Address))];
                e.Health.Spec = s.Health;
                foreach (var dest in e.Destinations) Track(e, dest, dest.Weight);
                _entries.Add(e);
            }
            foreach (var e in _entries) _availability.EvaluateQuorum(e, initial: true);
            _view = Publish();
        }
        _notifiedVips = _view.Vips; // the runtime routes the first set itself at start
        _notifiedKeys = _view.Services.Select(s => s.Key).ToHashSet();
    }

    private static ServiceEntry NewEntry(ServiceConfig s) => new(s.Key)
    {
        Scheduler = s.Scheduler, Flags = s.SchedulerFlags.ToArray(), MhTableSize = s.MhTableSize,
        PersistenceSeconds = s.PersistenceSeconds, PersistencePrefix = s.PersistencePrefix,
    };

    /// <summary>One engine per data-path worker, in worker order.</summary>
    public DirectorEngine[] Engines { get; }

    /// <summary>The first worker's engine: the only one with workers = 1 (tests and single-engine callers).</summary>
    public DirectorEngine Engine => Engines[0];

    /// <summary>Control work queued to the data-path workers (connection listings, zeroing, timeouts).</summary>
    public WorkerCommandQueue Commands { get; }

    /// <summary>Connection sync with peer directors: on/off, synced yet, counters; shared by the API and the announcer.</summary>
    public Sync.SyncStatus Sync { get; } = new();

    /// <summary>Tunnel packets and bytes all workers handed to the kernel.</summary>
    public TunnelSendTotals Sent { get; }

    /// <summary>ICMP answers to egress-check probes sent from real servers with the VIP as source.</summary>
    public EgressAnswerRecorder Egress { get; } = new();

    /// <summary>Egress-check results reported by real servers, with their site/provider metadata (GET /api/v1/egress).</summary>
    public TunLB.Control.Egress.EgressResultBook EgressResults { get; } = new();

    /// <summary>The drain flag and what is announced (announce = true); shared by the API and the announcer.</summary>
    public Announce.AnnounceStatus Announcement { get; } = new();

    /// <summary>The event log (GET /api/v1/events): health, drain, weight, reload, quorum, announce, sync, ...</summary>
    public EventLog Events => _o.Events;

    /// <summary>Records an event now (the health clock's time); for parts outside the state such as sync.</summary>
    public DirectorEvent RecordEvent(string kind, string? service, string? real, string message) =>
        _o.Events.Record(_o.Time.GetUtcNow(), kind, service, real, message);

    /// <summary>What runs now, for readers: swapped whole at every change.</summary>
    public DirectorView View => _view;

    private DirectorSettings _settings;

    /// <summary>The [director] settings in effect (those needing a restart stay as started).</summary>
    public DirectorSettings Settings => _view.Settings;

    /// <summary>The config file reloads read.</summary>
    public string ConfigPath { get; }

    public IReadOnlyList<IpAddress> Vips => _view.Vips;

    /// <summary>The services in order (file order, then runtime additions), as the data path has them.</summary>
    public IReadOnlyList<VirtualService> Services => _view.Services.Select(s => s.Service).ToArray();

    /// <summary>Called with the new VIP set whenever it or the set of services changes, so routes and capture can follow (they read <see cref="View"/>).</summary>
    public Action<IReadOnlyCollection<IpAddress>>? VipsChanged { get; set; }

    /// <summary>The capture backend the runtime chose (null until it started one, and in tests without a data path).</summary>
    public IoChoice? Io { get; set; }

    /// <summary>How tunnel packets leave ("tx ring", "af_xdp+tx ring", "sendmmsg", "raw"; set once by the runtime at start).</summary>
    public string? Tx { get; set; }

    /// <summary>The health clock (UTC); injected for tests.</summary>
    public TimeProvider Time => _o.Time;

    /// <summary>Runs a quorum hook command (sh -c); replaced in tests.</summary>
    public Action<string, string> RunHook { get => _availability.RunHook; set => _availability.RunHook = value; }

    /// <summary>
    /// Runs <paramref name="f"/> on every worker's thread between packets, with that worker's engine, and returns the
    /// results in worker order. A worker not attached (not started, or stopped) runs it inline here.
    /// </summary>
    /// <exception cref="ManagementException">Unavailable when a worker does not answer in time.</exception>
    public T[] OnWorkers<T>(Func<DirectorEngine, T> f)
    {
        try { return Commands.Run(Engines, f); }
        catch (WorkerTimeoutException e) { throw new ManagementException(ManagementError.Unavailable, null, e.Message); }
    }

    /// <summary>Drops summed over the workers, indexed by <c>(int)DropReason</c>.</summary>
    public long[] Drops()
    {
        var sum = new long[DropReasons.Count];
        foreach (var e in Engines)
            for (int i = 0; i < sum.Length; i++) sum[i] += e.Drops[i];
        return sum;
    }

    public int ConnectionCount { get { int n = 0; foreach (var e in Engines) n += e.Connections.Count; return n; } }
    public int ConnectionCapacity { get { int n = 0; foreach (var e in Engines) n += e.Connections.Capacity; return n; } }
    public long Evictions { get { long n = 0; foreach (var e in Engines) n += e.Connections.Evictions; return n; } }
    public long Refusals { get { long n = 0; foreach (var e in Engines) n += e.Connections.Refusals; return n; } }

    /// <summary>Gives every engine the health checker's pinned-flow table (checks land on any worker's queue).</summary>
    public void SetPinned(PinnedFlows pins)
    {
        foreach (var e in Engines) e.Pinned = pins;
        lock (_gate) _view = Publish();
    }

    /// <summary>Pinned-check packets forwarded by the data path (0 when checks through the tunnel are off).</summary>
    public long PinnedPackets => Engine.Pinned is { } p ? Interlocked.Read(ref p.Packets) : 0;

    /// <summary>Checked reals: address and whether the check goes through the tunnel.</summary>
    public IReadOnlyList<(IpAddress Address, bool Tunnel)> CheckedReals()
    {
        lock (_gate) return _health.All.Values.Where(h => h.Checked).Select(h => (h.Dest.Address, h.Spec.ViaTunnel)).ToArray();
    }

    /// <summary>The weight from the file or the API (the destination's weight is the effective one).</summary>
    public int ConfiguredWeight(Destination d)
    {
        lock (_gate) return _health.ConfiguredWeight(d);
    }

    private RealHealth Track(ServiceEntry e, Destination d, int configuredWeight)
    {
        var h = _health.Track(e, d, configuredWeight);
        _availability.Apply(h);
        return h;
    }

    /// <summary>
    /// Hands every changed service to the engines (one snapshot swap each, so a scheduler and the destination registry
    /// change together) and returns the new view. Call under the lock, at the end of every change.
    /// </summary>
    private DirectorView Publish()
    {
        var published = new VirtualService[_entries.Count];
        bool changed = published.Length != _published.Length;
        for (int i = 0; i < _entries.Count; i++)
        {
            var e = _entries[i];
            if (e.Dirty || e.Published is null) { e.Published = e.Build(); e.Dirty = false; }
            published[i] = e.Published;
            changed |= i >= _published.Length || !ReferenceEquals(published[i], _published[i]);
        }
        if (changed)
        {
            foreach (var engine in Engines) engine.SetServices(published);
            _published = published;
        }
        var live = new HashSet<int>(_entries.SelectMany(e => e.Destinations).Select(d => d.Id));
        _rates.Retain(live);

        return BuildView();
    }

    private readonly object _vipGate = new();
    private IReadOnlyList<IpAddress> _notifiedVips = [];
    private HashSet<ServiceKey> _notifiedKeys = [];

    /// <summary>
    /// Lets routes follow the VIP set of the latest view. Called after the state lock is released, so route changes
    /// (which run <c>ip</c>) never hold up the API or the health checks.
    /// </summary>
    private void NotifyVips()
    {
        lock (_vipGate)
        {
            var vips = _view.Vips;
            var keys = _view.Services.Select(s => s.Key).ToHashSet();
            if (vips.ToHashSet().SetEquals(_notifiedVips) && keys.SetEquals(_notifiedKeys)) return;
            _notifiedVips = vips;
            _notifiedKeys = keys;
            try { VipsChanged?.Invoke(vips.ToArray()); }
            catch (Exception ex) { _o.LogError($"tunlb director: routes: {ex.Message}"); }
        }
    }

    /// <summary>Runs one change under the lock, publishes, then lets routes follow.</summary>
    private T Change<T>(Func<T> change)
    {
        T result;
        lock (_gate)
        {
            result = change();
            if (InBatch) return result; // the batch publishes once at its end
            _view = Publish();
        }
        NotifyVips();
        return result;
    }
}
