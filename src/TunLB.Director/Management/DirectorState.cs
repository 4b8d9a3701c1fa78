using TunLB.Control.Api;
using TunLB.Control.Configuration;
using TunLB.Core.Connections;
using TunLB.Core.DataPath;
using TunLB.Core.Flows;
using TunLB.Core.Model;
using TunLB.Core.Packets;
using TunLB.Core.Scheduling;
using TunLB.Director.Workers;

namespace TunLB.Director.Management;

/// <summary>Injected dependencies of <see cref="DirectorState"/>; the defaults need no host access.</summary>
public sealed class DirectorStateOptions
{
    /// <summary>The director's source address toward a real server (outer IPIP source). Throws when there is no route.</summary>
    public Func<IpAddress, IpAddress> OuterSource { get; init; } = _ => default;
    /// <summary>Informational lines (stdout in the daemon).</summary>
    public Action<string> Log { get; init; } = _ => { };
    /// <summary>Error lines (stderr in the daemon).</summary>
    public Action<string> LogError { get; init; } = _ => { };
    /// <summary>The data path's clock (ms); used for expiry times in connection listings.</summary>
    public Func<long> Clock { get; init; } = () => Environment.TickCount64;
    /// <summary>How long a control request waits for the worker thread.</summary>
    public TimeSpan WorkerTimeout { get; init; } = TimeSpan.FromSeconds(5);
    /// <summary>Path MTU toward a real server (0 = unknown: no check). Used when a real has no configured mtu.</summary>
    public Func<IpAddress, int> PathMtu { get; init; } = _ => 0;
    /// <summary>Hash seed for the engine; null = random.</summary>
    public ulong? HashSeed { get; init; }
    /// <summary>The health-check clock (UTC).</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;
}

/// <summary>
/// The director's management state, without any I/O: owns the <see cref="DirectorEngine"/>, the ordered list
/// of virtual services with their scheduler settings, destination id allocation, the worker command queue,
/// rate estimators, and the diff-based reload. The API, SIGHUP and the daemon all change the runtime through
/// this class.
/// </summary>
/// <remarks>
/// <para>Threading. Control operations serialize on one lock. Services, destinations and weights change by
/// copy-on-write: a new destination array (<see cref="VirtualService.SetDestinations"/>), scheduler updates,
/// then <see cref="DirectorEngine.SetServices"/> so the worker sees the new set at its next packet. Anything
/// that reads or writes worker-owned state (the connection table, counters to zero, timeouts) is queued with
/// <see cref="OnWorkers{T}"/> and run by the worker between packets (<see cref="WorkerCommandQueue"/>: one volatile
/// read per loop when idle). Without an attached worker (tests, or before start) such work runs inline.</para>
/// <para>Counters are read for stats and metrics without the queue: single 32/64-bit reads of values that
/// only the worker writes, i.e. approximate but never torn, as IPVS's per-CPU stats.</para>
/// <para>Workers. With <c>workers = N</c> there are N engines (<see cref="Engines"/>), one per data-path worker,
/// each with its own connection table (conn_max / N entries), fragment table and drop counters; they share the
/// services and destinations. Every engine gets every publish and timeout change; worker work
/// (<see cref="OnWorkers{T}"/>) is queued to each worker and the results are combined, so listings, zeroing and
/// timeouts cover all workers. Persistence templates live in the table of the worker that created them.</para>
/// </remarks>
public sealed partial class DirectorState
{
    private readonly object _gate = new();
    private readonly DirectorStateOptions _o;
    private readonly List<ServiceEntry> _entries = new();
    private readonly Dictionary<int, RateEstimator> _destRates = new();
    private readonly RateEstimator _totalRates = new();
    private int _nextDestinationId = 1;
    private IpAddress[] _vips = [];
    private long _lastSampleTicks;

    internal sealed class ServiceEntry
    {
        public required VirtualService Vs;
        public required string Scheduler;
        public required string[] Flags;
        public required int MhTableSize;
        public readonly RateEstimator Rates = new();
        public ServiceHealthState Health = new();
        public ServiceKey Key => Vs.Key;
        public string ProtocolName => Validate.ProtocolName(Vs.Key.Protocol);
        public override string ToString() => $"{ProtocolName} {Validate.Endpoint(Vs.Key.Vip, Vs.Key.Port)}";
    }

    public DirectorState(DirectorConfig cfg, DirectorStateOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(cfg);
        _o = options ?? new DirectorStateOptions();
        var d = cfg.Director;
        Settings = d;
        ConfigPath = cfg.SourcePath;
        int workers = d.EffectiveWorkers;
        ulong seed = _o.HashSeed ?? (ulong)Random.Shared.NextInt64();
        Engines = new DirectorEngine[workers];
        for (int w = 0; w < workers; w++) Engines[w] = NewEngine(d, w, workers, seed);
        foreach (var e in Engines) e.SetPeers(Engines);
        Commands = new WorkerCommandQueue(workers, _o.WorkerTimeout);
        Sent = new TunnelSendTotals(workers);
        foreach (var s in cfg.Services) _entries.Add(BuildEntry(s));
        foreach (var e in _entries) { EvaluateQuorum(e, Time.GetUtcNow(), initial: true); e.Vs.WeightsChanged(); }
        Publish();
    }

    /// <summary>
    /// Engine <paramref name="w"/> of <paramref name="workers"/>: conn_max and frag_max are split between the workers
    /// (rounded up), so the director's memory and limits stay those of the config. All engines share one hash seed.
    /// </summary>
    private static DirectorEngine NewEngine(DirectorSettings d, int w, int workers, ulong seed) =>
        new(new DirectorEngineOptions
        {
            WorkerIndex = w,
            WorkerCount = workers,
            ConnectionCapacity = (int)(((long)d.ConnMax + workers - 1) / workers),
            FullTablePolicy = d.ConnFullPolicy == "refuse" ? FullTablePolicy.Refuse : FullTablePolicy.EvictOldest,
            Timeouts = ConnTimeouts.Default.WithIpvsadmSet(d.TimeoutTcp, d.TimeoutTcpFin, d.TimeoutUdp),
            OuterTtl = (byte)d.Ttl,
            // With io = "afpacket" the kernel forwards nothing, so there is no TTL decrement to undo.
            InnerTtlIncrement = (byte)(d.RestoreInnerTtl && d.Io != "afpacket" ? 1 : 0),
            SloppyTcp = d.SloppyTcp,
            ExpireQuiescentTemplate = d.ExpireQuiescentTemplate,
            HashSeed = seed,
            AnswerPing = d.AnswerPing,
            // The ICMP budget is per worker: split so the director as a whole keeps icmp_rate / icmp_burst.
            IcmpRatePerSecond = Math.Max(1, d.IcmpRate / workers),
            IcmpBurst = Math.Max(1, d.IcmpBurst / workers),
            FragmentTableCapacity = Math.Max(ConfigLoader.FragmentTableMinimum, (d.FragMax + workers - 1) / workers),
        });

    /// <summary>One engine per data-path worker, in worker order.</summary>
    public DirectorEngine[] Engines { get; }

    /// <summary>The first worker's engine: the only one with workers = 1 (tests and single-engine callers).</summary>
    public DirectorEngine Engine => Engines[0];

    /// <summary>Drops summed over the workers, indexed by <c>(int)DropReason</c>.</summary>
    public long[] Drops()
    {
        var sum = new long[DropReasons.Count];
        foreach (var e in Engines)
            for (int i = 0; i < sum.Length; i++) sum[i] += e.Drops[i];
        return sum;
    }

    /// <summary>Entries in all workers' connection tables.</summary>
    public int ConnectionCount => Engines.Sum(e => e.Connections.Count);
    /// <summary>Capacity of all workers' connection tables together.</summary>
    public int ConnectionCapacity => Engines.Sum(e => e.Connections.Capacity);
    public long Evictions => Engines.Sum(e => e.Connections.Evictions);
    public long Refusals => Engines.Sum(e => e.Connections.Refusals);

    /// <summary>Gives every engine the health checker's pinned-flow table (checks land on any worker's queue).</summary>
    public void SetPinned(PinnedFlows pins)
    {
        foreach (var e in Engines) e.Pinned = pins;
    }

    /// <summary>ICMP answers to egress-check probes sent from real servers with the VIP as source.</summary>
    public TunLB.Core.Egress.EgressAnswerRecorder Egress { get; } = new();

    /// <summary>The [director] settings in effect (those needing a restart stay as started).</summary>
    public DirectorSettings Settings { get; private set; }

    /// <summary>The config file reloads read.</summary>
    public string ConfigPath { get; }

    /// <summary>Tunnel packets and bytes all workers handed to the kernel.</summary>
    public TunnelSendTotals Sent { get; }

    /// <summary>Successful and failed reloads since start.</summary>
    public long ReloadsOk, ReloadsFailed;
    public bool LastReloadOk { get; private set; } = true;
    public DateTimeOffset LastReloadTime { get; private set; } = DateTimeOffset.UtcNow;

    /// <summary>Called (under the state lock) with the new VIP set whenever it changes, so routes can follow.</summary>
    public Action<IReadOnlyCollection<IpAddress>>? VipsChanged { get; set; }

    /// <summary>Called around a reload (for sd_notify RELOADING=1 / READY=1).</summary>
    public Action? ReloadStarting { get; set; }
    public Action? ReloadFinished { get; set; }

    public IReadOnlyCollection<IpAddress> Vips { get { lock (_gate) return _vips; } }

    /// <summary>The services in order (file order, then runtime additions).</summary>
    public IReadOnlyList<VirtualService> Services { get { lock (_gate) return _entries.Select(e => e.Vs).ToArray(); } }

    internal IReadOnlyList<ServiceEntry> EntriesUnlocked => _entries;
    internal object Gate => _gate;

    /// <summary>Control work queued to the data-path workers (connection listings, zeroing, timeouts).</summary>
    public WorkerCommandQueue Commands { get; }

    /// <summary>
    /// Runs <paramref name="f"/> on every worker's thread between packets, with that worker's engine, and returns the
    /// results in worker order. A worker not attached (not started, or stopped) runs it inline here.
    /// </summary>
    /// <exception cref="ApiException">503 when a worker does not answer in time.</exception>
    public T[] OnWorkers<T>(Func<DirectorEngine, T> f)
    {
        try { return Commands.Run(Engines, f); }
        catch (WorkerTimeoutException e) { throw new ApiException(503, null, e.Message); }
    }

    // ================================================================ building

    private ServiceEntry BuildEntry(ServiceConfig s)
    {
        var dests = s.Reals.Select(NewDestination).ToArray();
        var sched = SchedulerFactory.Create(s.Scheduler, new SchedulerOptions(s.MhTableSize, new HashSet<string>(s.SchedulerFlags)));
        var vs = new VirtualService(s.Key, sched, dests)
        {
            PersistenceSeconds = s.PersistenceSeconds,
            PersistencePrefix = s.PersistencePrefix,
        };
        var entry = new ServiceEntry { Vs = vs, Scheduler = s.Scheduler, Flags = s.SchedulerFlags.ToArray(), MhTableSize = s.MhTableSize };
        HealthAttach(entry, s.Health);
        return entry;
    }

    private Destination NewDestination(RealConfig r) => ApplyTunnel(new(_nextDestinationId++, r.Address, r.Port, r.Weight)
    {
        UpperThreshold = r.UpperThreshold,
        LowerThreshold = r.LowerThreshold,
        OuterSource = _o.OuterSource(r.Address),
    }, r);

    /// <summary>Encapsulation and path MTU of a real server from its config (mtu 0 = the route's MTU).</summary>
    private Destination ApplyTunnel(Destination d, RealConfig r)
    {
        d.Encap = r.Encap == "gue" ? EncapKind.Gue : EncapKind.Ipip;
        d.GuePort = (ushort)r.GuePort;
        d.GueChecksum = r.GueChecksum;
        d.Mtu = r.Mtu != 0 ? r.Mtu : SafePathMtu(r.Address);
        return d;
    }

    private int SafePathMtu(IpAddress a)
    {
        try { return _o.PathMtu(a); }
        catch (Exception ex) { _o.LogError($"tunlb director: cannot read the path MTU toward {a}: {ex.Message}; no MTU check for it"); return 0; }
    }

    private static string TunType(Destination d) => d.Encap == EncapKind.Gue ? "gue" : "ipip";

    private static IScheduler CreateScheduler(string name, string[] flags, int mh) =>
        SchedulerFactory.Create(name, new SchedulerOptions(mh, new HashSet<string>(flags)));

    /// <summary>Publishes the service set to the data path and lets routes follow the VIP set. Call under the lock.</summary>
    private void Publish()
    {
        var services = _entries.Select(e => e.Vs).ToArray();
        foreach (var engine in Engines) engine.SetServices(services);
        var live = new HashSet<int>(_entries.SelectMany(e => e.Vs.Destinations).Select(d => d.Id));
        foreach (var id in _destRates.Keys.Where(id => !live.Contains(id)).ToList()) _destRates.Remove(id);
        var vips = _entries.Select(e => e.Key.Vip).Distinct().ToArray();
        if (!vips.ToHashSet().SetEquals(_vips))
        {
            _vips = vips;
            try { VipsChanged?.Invoke(vips); }
            catch (Exception e) { _o.LogError($"tunlb director: routes: {e.Message}"); }
        }
    }

    private void Retire(IEnumerable<Destination> dests)
    {
        foreach (var d in dests) { d.Alive = false; HealthUntrack(d); }
    }

    // ================================================================ lookups

    private ServiceEntry? Find(ServiceKey key) => _entries.FirstOrDefault(e => e.Key == key);

    private static ServiceKey RouteKey(string? proto, string? vip, string? port) =>
        new(Validate.HostAddress(vip, "vip"), Validate.Port(port, "port"), Validate.Protocol(proto));

    private ServiceEntry FindOr404(string? proto, string? vip, string? port)
    {
        var key = RouteKey(proto, vip, port);
        return Find(key) ?? throw ApiException.NotFound("vip", $"no service {Validate.ProtocolName(key.Protocol)} {Validate.Endpoint(key.Vip, key.Port)}");
    }

    private static Destination FindRealOr404(ServiceEntry e, string? addr, string? rport)
    {
        var a = Validate.HostAddress(addr, "address");
        var p = Validate.Port(rport, "port");
        return e.Vs.Destinations.FirstOrDefault(d => d.Address == a && d.Port == p)
               ?? throw ApiException.NotFound("address", $"no real server {Validate.Endpoint(a, p)} in service {e}");
    }

    // ================================================================ read side

    public InfoDto Info()
    {
        var v = typeof(DirectorState).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";
        var workers = Engines.Select(e => new WorkerDto(e.WorkerIndex, e.Connections.Capacity, e.Connections.Count,
            e.ForwardedPackets, e.PeerAdopted)).ToArray();
        return new InfoDto(v, ConnectionCapacity, ConnectionCount, Settings.Api, workers);
    }

    public IReadOnlyList<ServiceDto> ListServices()
    {
        lock (_gate) return _entries.Select(ToDto).ToArray();
    }

    public ServiceDto GetService(string? proto, string? vip, string? port)
    {
        lock (_gate) return ToDto(FindOr404(proto, vip, port));
    }

    private ServiceDto ToDto(ServiceEntry e)
    {
        var vs = e.Vs;
        bool v6 = !vs.Key.Vip.IsV4;
        return new ServiceDto(e.ProtocolName, vs.Key.Vip.ToString(), vs.Key.Port, e.Scheduler, e.Flags,
            vs.PersistenceSeconds, Validate.FormatNetmask(vs.PersistencePrefix, v6), e.MhTableSize,
            new StatsDto(vs.Connections, vs.InPackets, 0, vs.InBytes, 0), Rates(e.Rates),
            vs.Destinations.Select(ToDto).ToArray());
    }

    private RealDto ToDto(Destination d)
    {
        _destRates.TryGetValue(d.Id, out var r);
        return new RealDto(d.Address.ToString(), d.Port, d.Weight, d.UpperThreshold, d.LowerThreshold,
            "tunnel", TunType(d), d.Encap == EncapKind.Gue ? d.GuePort : 0, d.Encap == EncapKind.Gue ? (d.GueChecksum ? "csum" : "nocsum") : "", d.ActiveConnections, d.InactiveConnections, d.PersistentConnections,
            new StatsDto(d.Connections, d.InPackets, 0, d.InBytes, 0), Rates(r), HealthOf(d));
    }

    private static RatesDto Rates(RateEstimator? r) => r is null ? new RatesDto(0, 0, 0, 0, 0) : new RatesDto(r.Cps, r.InPps, 0, r.InBps, 0);

    public StatsSummaryDto Stats()
    {
        lock (_gate)
        {
            var drops = new SortedDictionary<string, long>(StringComparer.Ordinal);
            var sum = Drops();
            for (int i = 1; i < DropReasons.Count; i++) drops[DropReasons.Names[i]] = sum[i];
            var (c, p, b) = Totals();
            return new StatsSummaryDto(new StatsDto(c, p, 0, b, 0), Rates(_totalRates), drops,
                Evictions, Refusals);
        }
    }

    private (long Conns, long Packets, long Bytes) Totals()
    {
        long c = 0, p = 0, b = 0;
        foreach (var e in _entries) { c += e.Vs.Connections; p += e.Vs.InPackets; b += e.Vs.InBytes; }
        return (c, p, b);
    }

    /// <summary>
    /// The connection tables of all workers (ipvsadm -L -c), each copied by its worker, concatenated in worker order.
    /// At most <paramref name="limit"/> entries.
    /// </summary>
    public IReadOnlyList<ConnectionDto> ListConnections(int limit = int.MaxValue)
    {
        var parts = OnWorkers(engine =>
        {
            long now = _o.Clock();
            var list = new List<ConnectionDto>();
            foreach (var c in engine.Connections.EnumerateEntries())
            {
                if (list.Count >= limit) break;
                var k = c.Key;
                var d = engine.FindDestination(c.DestinationId);
                bool t = c.IsTemplate;
                // A template's key: masked client, VIP, service protocol in the client-port field, service port, protocol 0.
                byte proto = t ? (byte)k.SourcePort : k.Protocol;
                list.Add(new ConnectionDto(Validate.ProtocolName(proto), k.Source.ToString(), t ? 0 : k.SourcePort,
                    k.Destination.ToString(), k.DestinationPort, d?.Address.ToString() ?? "", d?.Port ?? 0,
                    c.State.Name(), Math.Max(0, c.ExpiresAtMs - now) / 1000.0, t));
            }
            return list;
        });
        return parts.SelectMany(x => x).Take(limit).ToArray();
    }

    // ================================================================ services

    public ServiceDto AddService(ServiceSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var proto = Validate.Protocol(spec.Protocol);
        var vip = Validate.HostAddress(spec.Vip, "vip");
        var port = Validate.Port(spec.Port, "port");
        var sched = Validate.Scheduler(spec.Scheduler ?? "wlc");
        var flags = Validate.Flags(spec.Flags ?? [], sched);
        int mh = Validate.MhTableSize(spec.MhTableSize ?? SchedulerFactory.DefaultMaglevTableSize);
        int persistence = Validate.Range(spec.Persistence ?? 0, 0, ConfigLoader.MaxTimeoutSeconds, "persistence");
        int prefix = spec.PersistenceNetmask is null ? (vip.IsV4 ? 32 : 128) : Validate.Netmask(spec.PersistenceNetmask, !vip.IsV4);
        if (port == 0 && persistence == 0)
            throw ApiException.BadRequest("port", "port 0 (all ports) is only allowed with persistence > 0 (as ipvsadm -p with port 0)");
        var key = new ServiceKey(vip, port, proto);
        lock (_gate)
        {
            if (Find(key) is { } existing) throw ApiException.Conflict("vip", $"service {existing} already exists");
            var vs = new VirtualService(key, CreateScheduler(sched, flags, mh), [])
            {
                PersistenceSeconds = persistence,
                PersistencePrefix = prefix,
            };
            var e = new ServiceEntry { Vs = vs, Scheduler = sched, Flags = flags, MhTableSize = mh };
            HealthAttach(e, TunLB.Health.ServiceHealthSpec.None);
            _entries.Add(e);
            Publish();
            _o.Log($"tunlb director: api: added service {e} scheduler {sched}");
            return ToDto(e);
        }
    }

    public ServiceDto EditService(string? proto, string? vip, string? port, ServiceSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        lock (_gate)
        {
            var e = FindOr404(proto, vip, port);
            var key = e.Key;
            if (spec.Protocol is not null && Validate.Protocol(spec.Protocol) != key.Protocol)
                throw ApiException.BadRequest("protocol", "a service's protocol cannot change; delete it and add a new one");
            if (spec.Vip is not null && Validate.HostAddress(spec.Vip, "vip") != key.Vip)
                throw ApiException.BadRequest("vip", "a service's vip cannot change; delete it and add a new one");
            if (spec.Port is not null && Validate.Port(spec.Port, "port") != key.Port)
                throw ApiException.BadRequest("port", "a service's port cannot change; delete it and add a new one");

            var sched = spec.Scheduler is null ? e.Scheduler : Validate.Scheduler(spec.Scheduler);
            // Flags not given: keep those that still fit the (possibly new) scheduler.
            var flags = spec.Flags is null
                ? e.Flags.Where(f => f.StartsWith(sched + "-", StringComparison.Ordinal)).ToArray()
                : Validate.Flags(spec.Flags, sched);
            int mh = spec.MhTableSize is null ? e.MhTableSize : Validate.MhTableSize(spec.MhTableSize.Value);
            int persistence = spec.Persistence is null ? e.Vs.PersistenceSeconds
                : Validate.Range(spec.Persistence.Value, 0, ConfigLoader.MaxTimeoutSeconds, "persistence");
            int prefix = spec.PersistenceNetmask is null ? e.Vs.PersistencePrefix : Validate.Netmask(spec.PersistenceNetmask, !key.Vip.IsV4);
            if (key.Port == 0 && persistence == 0)
                throw ApiException.BadRequest("persistence", "a port-0 (all ports) service needs persistence > 0");

            var changes = new List<string>();
            if (sched != e.Scheduler || !flags.SequenceEqual(e.Flags) || mh != e.MhTableSize)
            {
                e.Vs.SetScheduler(CreateScheduler(sched, flags, mh));
                changes.Add($"scheduler {Describe(e.Scheduler, e.Flags)} -> {Describe(sched, flags)}" + (mh != e.MhTableSize ? $" mh_table_size {mh}" : ""));
                (e.Scheduler, e.Flags, e.MhTableSize) = (sched, flags, mh);
            }
            if (persistence != e.Vs.PersistenceSeconds) { changes.Add($"persistence {e.Vs.PersistenceSeconds} -> {persistence}"); e.Vs.PersistenceSeconds = persistence; }
            if (prefix != e.Vs.PersistencePrefix) { changes.Add($"persistence_netmask /{e.Vs.PersistencePrefix} -> /{prefix}"); e.Vs.PersistencePrefix = prefix; }
            if (changes.Count > 0)
            {
                Publish();
                _o.Log($"tunlb director: api: edited service {e}: {string.Join(", ", changes)}");
            }
            return ToDto(e);
        }
    }

    private static string Describe(string sched, string[] flags) => flags.Length == 0 ? sched : $"{sched} ({string.Join(",", flags)})";

    public void DeleteService(string? proto, string? vip, string? port)
    {
        lock (_gate)
        {
            var e = FindOr404(proto, vip, port);
            _entries.Remove(e);
            Retire(e.Vs.Destinations);
            Publish();
            _o.Log($"tunlb director: api: deleted service {e}");
        }
    }

    /// <summary>ipvsadm -C: deletes every service.</summary>
    public void Clear()
    {
        lock (_gate)
        {
            foreach (var e in _entries) Retire(e.Vs.Destinations);
            int n = _entries.Count;
            _entries.Clear();
            Publish();
            _o.Log($"tunlb director: api: deleted all {n} service(s)");
        }
    }

    // ================================================================ real servers

    public RealDto AddReal(string? proto, string? vip, string? port, RealSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        lock (_gate)
        {
            var e = FindOr404(proto, vip, port);
            var addr = Validate.HostAddress(spec.Address, "address");
            // Mixed families are fine: an IPv4 VIP over an IPv6 outer header (4in6) and IPv6 over IPv4 (6in4).
            ushort rport = spec.Port is null ? e.Key.Port : Validate.Port(spec.Port, "port");
            CheckTunnel(spec);
            int weight = Validate.Range(spec.Weight ?? 1, 0, 65535, "weight");
            var (upper, lower) = Thresholds(spec.UpperThreshold ?? 0, spec.LowerThreshold ?? 0);
            if (e.Vs.Destinations.FirstOrDefault(d => d.Address == addr) is { } dup)
                throw ApiException.Conflict("address", $"real server {Validate.Endpoint(dup.Address, dup.Port)} already exists in service {e} " +
                                                       "(tunnel mode does not rewrite ports, so one address is one server)");
            IpAddress source;
            try { source = _o.OuterSource(addr); }
            catch (Exception ex) { throw ApiException.BadRequest("address", $"no route to {addr}: {ex.Message}"); }
            var d = new Destination(_nextDestinationId++, addr, rport, weight)
            {
                UpperThreshold = upper,
                LowerThreshold = lower,
                OuterSource = source,
                Mtu = SafePathMtu(addr),
            };
            ApplyTunnel(d, spec);
            e.Vs.SetDestinations([.. e.Vs.Destinations, d]);
            HealthTrack(e, d, weight);
            EvaluateQuorum(e, Time.GetUtcNow());
            e.Vs.WeightsChanged();
            Publish(); // registers the new destination id with the data path
            _o.Log($"tunlb director: api: added real {Validate.Endpoint(addr, rport)} weight {weight} to service {e}");
            return ToDto(d);
        }
    }

    public RealDto EditReal(string? proto, string? vip, string? port, string? addr, string? rport, RealSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        lock (_gate)
        {
            var e = FindOr404(proto, vip, port);
            var d = FindRealOr404(e, addr, rport);
            if (spec.Address is not null && Validate.HostAddress(spec.Address, "address") != d.Address)
                throw ApiException.BadRequest("address", "a real server's address cannot change; delete it and add a new one");
            if (spec.Port is not null && Validate.Port(spec.Port, "port") != d.Port)
                throw ApiException.BadRequest("port", "a real server's port cannot change; delete it and add a new one");
            CheckTunnel(spec);
            ApplyTunnel(d, spec);
            int configured = ConfiguredWeight(d);
            int weight = spec.Weight is null ? configured : Validate.Range(spec.Weight.Value, 0, 65535, "weight");
            var (upper, lower) = Thresholds(spec.UpperThreshold ?? d.UpperThreshold, spec.LowerThreshold ?? d.LowerThreshold);
            var changes = new List<string>();
            if (upper != d.UpperThreshold || lower != d.LowerThreshold)
            {
                changes.Add($"thresholds {d.UpperThreshold}/{d.LowerThreshold} -> {upper}/{lower}");
                d.UpperThreshold = upper; d.LowerThreshold = lower;
            }
            if (weight != configured)
            {
                SetConfiguredWeight(d, weight);
                changes.Add($"weight {configured} -> {weight}" + (d.Weight != weight ? $" (effective {d.Weight}: health/drain)" : ""));
                EvaluateQuorum(e, Time.GetUtcNow());
                e.Vs.WeightsChanged(); // established flows keep their server; only new scheduling decisions move
            }
            if (changes.Count > 0) _o.Log($"tunlb director: api: edited real {Validate.Endpoint(d.Address, d.Port)} in service {e}: {string.Join(", ", changes)}");
            return ToDto(d);
        }
    }

    public void DeleteReal(string? proto, string? vip, string? port, string? addr, string? rport)
    {
        lock (_gate)
        {
            var e = FindOr404(proto, vip, port);
            var d = FindRealOr404(e, addr, rport);
            d.Alive = false; // its connections stop (DestinationGone); a new SYN is scheduled afresh
            HealthUntrack(d);
            e.Vs.SetDestinations(e.Vs.Destinations.Where(x => !ReferenceEquals(x, d)).ToArray());
            EvaluateQuorum(e, Time.GetUtcNow());
            Publish();
            _o.Log($"tunlb director: api: deleted real {Validate.Endpoint(d.Address, d.Port)} from service {e}");
        }
    }

    private static void CheckTunnel(RealSpec spec)
    {
        if (spec.TunType is not null && spec.TunType is not ("ipip" or "gue"))
            throw ApiException.BadRequest("tun_type", $"tunnel type \"{spec.TunType}\" is not supported; use \"ipip\" or \"gue\"");
        bool gue = spec.TunType == "gue";
        if (spec.TunPort is not null && spec.TunPort != 0)
        {
            if (!gue) throw ApiException.BadRequest("tun_port", "tun_port applies to gue tunnels; ipip has no port (use 0 or leave it out)");
            Validate.Range(spec.TunPort.Value, 1, 65535, "tun_port");
        }
        if (!string.IsNullOrEmpty(spec.TunFlags))
        {
            if (!gue) throw ApiException.BadRequest("tun_flags", "tun_flags apply to gue tunnels; ipip has none");
            if (spec.TunFlags is not ("csum" or "nocsum"))
                throw ApiException.BadRequest("tun_flags", $"tun_flags \"{spec.TunFlags}\" is not supported; use csum or nocsum");
        }
    }

    /// <summary>Applies tun_type/tun_port/tun_flags of an API request (already checked).</summary>
    private static void ApplyTunnel(Destination d, RealSpec spec)
    {
        if (spec.TunType is null) return;
        d.Encap = spec.TunType == "gue" ? EncapKind.Gue : EncapKind.Ipip;
        if (d.Encap == EncapKind.Gue)
        {
            d.GuePort = (ushort)(spec.TunPort is > 0 ? spec.TunPort.Value : 6080);
            d.GueChecksum = spec.TunFlags == "csum";
        }
    }

    private static (int Upper, int Lower) Thresholds(int upper, int lower)
    {
        Validate.Range(upper, 0, int.MaxValue, "upper_threshold");
        Validate.Range(lower, 0, int.MaxValue, "lower_threshold");
        if (upper > 0 && lower > upper)
            throw ApiException.BadRequest("lower_threshold", $"lower_threshold {lower} is above upper_threshold {upper}");
        return (upper, lower);
    }

    // ================================================================ stats, timeouts

    /// <summary>ipvsadm -Z: zeroes the counters of every service (null) or one service, on the worker.</summary>
    public void Zero(ZeroSpec? spec)
    {
        lock (_gate)
        {
            List<ServiceEntry> targets;
            if (spec is null || (spec.Protocol is null && spec.Vip is null && spec.Port is null))
                targets = _entries.ToList();
            else
            {
                var key = new ServiceKey(Validate.HostAddress(spec.Vip, "vip"), Validate.Port(spec.Port, "port"), Validate.Protocol(spec.Protocol ?? "tcp"));
                targets = [Find(key) ?? throw ApiException.NotFound("vip", $"no service {Validate.ProtocolName(key.Protocol)} {Validate.Endpoint(key.Vip, key.Port)}")];
            }
            // Each worker zeroes its own counter slots, so no increment races the zeroing.
            OnWorkers(engine =>
            {
                int w = engine.WorkerIndex;
                foreach (var e in targets)
                {
                    e.Vs.Stats.Zero(w);
                    foreach (var d in e.Vs.Destinations) d.Stats.Zero(w);
                }
                return 0;
            });
            foreach (var e in targets)
            {
                e.Rates.Reset();
                foreach (var d in e.Vs.Destinations)
                    if (_destRates.TryGetValue(d.Id, out var r)) r.Reset();
            }
            if (targets.Count == _entries.Count) _totalRates.Reset();
        }
    }

    public TimeoutsDto GetTimeouts()
    {
        var t = Engine.Timeouts;
        return new TimeoutsDto((int)(t.TcpMs / 1000), (int)(t.TcpFinMs / 1000), (int)(t.UdpMs / 1000));
    }

    /// <summary>ipvsadm --set tcp tcpfin udp (seconds; 0 = unchanged).</summary>
    public TimeoutsDto SetTimeouts(TimeoutsDto t)
    {
        ArgumentNullException.ThrowIfNull(t);
        Validate.Range(t.Tcp, 0, ConfigLoader.MaxTimeoutSeconds, "tcp");
        Validate.Range(t.TcpFin, 0, ConfigLoader.MaxTimeoutSeconds, "tcp_fin");
        Validate.Range(t.Udp, 0, ConfigLoader.MaxTimeoutSeconds, "udp");
        lock (_gate)
        {
            var next = Engine.Timeouts.WithIpvsadmSet(t.Tcp, t.TcpFin, t.Udp);
            OnWorkers(engine => { engine.SetTimeouts(next); return 0; });
            var now = GetTimeouts();
            _o.Log($"tunlb director: api: timeouts (tcp tcpfin udp) {now.Tcp} {now.TcpFin} {now.Udp}");
            return now;
        }
    }

    /// <summary>One estimator tick: samples every service, real server and the total. Called every 2 s by a control timer.</summary>
    public void SampleRates()
    {
        lock (_gate)
        {
            long now = System.Diagnostics.Stopwatch.GetTimestamp();
            double seconds = _lastSampleTicks == 0 ? 0 : (now - _lastSampleTicks) / (double)System.Diagnostics.Stopwatch.Frequency;
            _lastSampleTicks = now;
            SampleRates(seconds);
        }
    }

    /// <summary>Estimator tick with an explicit interval (tests). Call under no lock.</summary>
    public void SampleRates(double seconds)
    {
        lock (_gate)
        {
            foreach (var e in _entries)
            {
                e.Rates.Sample(e.Vs.Connections, e.Vs.InPackets, e.Vs.InBytes, seconds);
                foreach (var d in e.Vs.Destinations)
                {
                    if (!_destRates.TryGetValue(d.Id, out var r)) _destRates[d.Id] = r = new RateEstimator();
                    r.Sample(d.Connections, d.InPackets, d.InBytes, seconds);
                }
            }
            var (c, p, b) = Totals();
            _totalRates.Sample(c, p, b, seconds);
        }
    }

    // ================================================================ reload

    /// <summary>Reloads the config file (SIGHUP, POST /api/v1/reload). A bad file changes nothing.</summary>
    public ReloadResultDto Reload()
    {
        ReloadStarting?.Invoke();
        try
        {
            DirectorConfig cfg;
            try { cfg = ConfigLoader.LoadDirector(ConfigPath); }
            catch (ConfigException ex)
            {
                var errors = ex.Errors.Select(x => x.ToString()).ToArray();
                return Failed(errors);
            }
            return Apply(cfg);
        }
        finally
        {
            ReloadFinished?.Invoke();
        }
    }

    private ReloadResultDto Failed(IReadOnlyList<string> errors)
    {
        lock (_gate)
        {
            ReloadsFailed++;
            LastReloadOk = false;
            LastReloadTime = DateTimeOffset.UtcNow;
        }
        _o.LogError($"tunlb director: reload of {ConfigPath} failed, nothing changed ({errors.Count} error(s)):");
        foreach (var e in errors) _o.LogError(e);
        return new ReloadResultDto(false, ConfigPath, [], errors);
    }

    /// <summary>
    /// Makes the runtime match <paramref name="cfg"/>, diff-based: a real server present before and after (same
    /// service, same address:port) keeps its <see cref="Destination"/> (flows, counters); weights and thresholds
    /// change in place; a scheduler is replaced only when its name, flags or table size changed and updated only
    /// when its reals or weights changed; removed services and reals are retired; new ones added. Atomic: every
    /// fallible step (resolving source addresses of new reals) happens before anything changes.
    /// </summary>
    public ReloadResultDto Apply(DirectorConfig cfg)
    {
        ArgumentNullException.ThrowIfNull(cfg);
        lock (_gate)
        {
            // Phase 1: plan and resolve, changing nothing.
            var sources = new Dictionary<IpAddress, IpAddress>();
            var errors = new List<string>();
            foreach (var s in cfg.Services)
                foreach (var r in s.Reals)
                {
                    var old = Find(s.Key);
                    if (old is not null && old.Vs.Destinations.Any(d => d.Address == r.Address && d.Port == r.Port)) continue;
                    if (sources.ContainsKey(r.Address)) continue;
                    try { sources[r.Address] = _o.OuterSource(r.Address); }
                    catch (Exception ex) { errors.Add($"{cfg.SourcePath}:{r.Line}:1: service real {r.Address}: no route: {ex.Message}"); }
                }
            if (errors.Count > 0) return Failed(errors); // the lock is re-entrant

            // Phase 2: apply.
            var changes = new List<string>();
            var next = new List<ServiceEntry>();
            var newKeys = cfg.Services.Select(s => s.Key).ToHashSet();
            foreach (var gone in _entries.Where(e => !newKeys.Contains(e.Key)))
            {
                Retire(gone.Vs.Destinations);
                changes.Add($"service {gone} deleted");
            }
            foreach (var s in cfg.Services)
            {
                var e = Find(s.Key);
                if (e is null)
                {
                    var dests = s.Reals.Select(r => ApplyTunnel(new Destination(_nextDestinationId++, r.Address, r.Port, r.Weight)
                    {
                        UpperThreshold = r.UpperThreshold, LowerThreshold = r.LowerThreshold, OuterSource = sources[r.Address],
                    }, r)).ToArray();
                    var vs = new VirtualService(s.Key, CreateScheduler(s.Scheduler, s.SchedulerFlags.ToArray(), s.MhTableSize), dests)
                    {
                        PersistenceSeconds = s.PersistenceSeconds, PersistencePrefix = s.PersistencePrefix,
                    };
                    var ne = new ServiceEntry { Vs = vs, Scheduler = s.Scheduler, Flags = s.SchedulerFlags.ToArray(), MhTableSize = s.MhTableSize };
                    next.Add(ne);
                    changes.Add($"service {ne} added ({s.Reals.Count} real(s))");
                    continue;
                }
                next.Add(e);
                DiffService(e, s, sources, changes);
            }
            _entries.Clear();
            _entries.AddRange(next);

            // Timeouts follow the file; engine construction settings need a restart.
            var d0 = Settings; var d1 = cfg.Director;
            var t0 = GetTimeouts();
            if (t0.Tcp != d1.TimeoutTcp || t0.TcpFin != d1.TimeoutTcpFin || t0.Udp != d1.TimeoutUdp)
            {
                var timeouts = ConnTimeouts.Default.WithIpvsadmSet(d1.TimeoutTcp, d1.TimeoutTcpFin, d1.TimeoutUdp);
                OnWorkers(engine => { engine.SetTimeouts(timeouts); return 0; });
                changes.Add($"timeouts (tcp tcpfin udp) {t0.Tcp} {t0.TcpFin} {t0.Udp} -> {d1.TimeoutTcp} {d1.TimeoutTcpFin} {d1.TimeoutUdp}");
            }
            foreach (var (name, a, b) in RestartOnly(d0, d1))
                if (a != b) changes.Add($"{name} changed ({a} -> {b}) but needs a restart; still {a}");
            Settings = d0 with { TimeoutTcp = d1.TimeoutTcp, TimeoutTcpFin = d1.TimeoutTcpFin, TimeoutUdp = d1.TimeoutUdp };

            HealthReload(cfg, changes);
            Publish();
            ReloadsOk++;
            LastReloadOk = true;
            LastReloadTime = DateTimeOffset.UtcNow;
            _o.Log($"tunlb director: reloaded {ConfigPath}: " + (changes.Count == 0 ? "no changes" : string.Join("; ", changes)));
            return new ReloadResultDto(true, ConfigPath, changes, []);
        }
    }

    private static IEnumerable<(string, string, string)> RestartOnly(DirectorSettings a, DirectorSettings b)
    {
        yield return ("api", a.Api, b.Api);
        yield return ("api_token", a.ApiToken.Length == 0 ? "(none)" : "(set)", b.ApiToken == a.ApiToken ? (a.ApiToken.Length == 0 ? "(none)" : "(set)") : "(another)");
        yield return ("tun_name", a.TunName, b.TunName);
        yield return ("tun_mtu", a.TunMtu.ToString(), b.TunMtu.ToString());
        yield return ("io", a.Io, b.Io);
        yield return ("capture_interfaces", string.Join(",", a.CaptureInterfaces), string.Join(",", b.CaptureInterfaces));
        yield return ("ttl", a.Ttl.ToString(), b.Ttl.ToString());
        yield return ("conn_max", a.ConnMax.ToString(), b.ConnMax.ToString());
        yield return ("workers", a.Workers == 0 ? "auto" : a.Workers.ToString(), b.Workers == 0 ? "auto" : b.Workers.ToString());
        yield return ("conn_full_policy", a.ConnFullPolicy, b.ConnFullPolicy);
        yield return ("tx", a.Tx, b.Tx);
        yield return ("pmtu_expires", a.PmtuExpires.ToString(), b.PmtuExpires.ToString());
        yield return ("sloppy_tcp", a.SloppyTcp.ToString(), b.SloppyTcp.ToString());
        yield return ("expire_quiescent_template", a.ExpireQuiescentTemplate.ToString(), b.ExpireQuiescentTemplate.ToString());
        yield return ("restore_inner_ttl", a.RestoreInnerTtl.ToString(), b.RestoreInnerTtl.ToString());
    }

    private void DiffService(ServiceEntry e, ServiceConfig s, Dictionary<IpAddress, IpAddress> sources, List<string> changes)
    {
        var what = new List<string>();
        var vs = e.Vs;
        var old = vs.Destinations.Where(x => !(_health.TryGetValue(x.Id, out var xh) && xh.IsSorry)).ToArray(); // the sorry server is not in the file's reals
        var dests = new Destination[s.Reals.Count];
        bool setChanged = old.Length != dests.Length, weightsChanged = false;
        for (int i = 0; i < dests.Length; i++)
        {
            var r = s.Reals[i];
            var d = old.FirstOrDefault(x => x.Address == r.Address && x.Port == r.Port);
            if (d is null)
            {
                d = ApplyTunnel(new Destination(_nextDestinationId++, r.Address, r.Port, r.Weight)
                {
                    UpperThreshold = r.UpperThreshold, LowerThreshold = r.LowerThreshold, OuterSource = sources[r.Address],
                }, r);
                what.Add($"real {Validate.Endpoint(r.Address, r.Port)} added");
            }
            else
            {
                if (ConfiguredWeight(d) != r.Weight) { what.Add($"real {Validate.Endpoint(r.Address, r.Port)} weight {ConfiguredWeight(d)} -> {r.Weight}"); SetConfiguredWeight(d, r.Weight); weightsChanged = true; }
                if (d.UpperThreshold != r.UpperThreshold || d.LowerThreshold != r.LowerThreshold)
                {
                    what.Add($"real {Validate.Endpoint(r.Address, r.Port)} thresholds {d.UpperThreshold}/{d.LowerThreshold} -> {r.UpperThreshold}/{r.LowerThreshold}");
                    d.UpperThreshold = r.UpperThreshold; d.LowerThreshold = r.LowerThreshold;
                }
                var (enc, gp, gc, mtu) = (d.Encap, d.GuePort, d.GueChecksum, d.Mtu);
                ApplyTunnel(d, r);
                if (enc != d.Encap || gp != d.GuePort || gc != d.GueChecksum)
                    what.Add($"real {Validate.Endpoint(r.Address, r.Port)} encapsulation -> {TunType(d)}" + (d.Encap == EncapKind.Gue ? $" port {d.GuePort}" : ""));
                if (mtu != d.Mtu) what.Add($"real {Validate.Endpoint(r.Address, r.Port)} mtu {mtu} -> {d.Mtu}");
            }
            if (!setChanged && !ReferenceEquals(old[i], d)) setChanged = true;
            dests[i] = d;
        }
        foreach (var gone in old.Where(o => !dests.Contains(o)))
        {
            gone.Alive = false;
            HealthUntrack(gone);
            what.Add($"real {Validate.Endpoint(gone.Address, gone.Port)} deleted");
        }

        var flags = s.SchedulerFlags.ToArray();
        bool schedChanged = s.Scheduler != e.Scheduler || !flags.SequenceEqual(e.Flags) || s.MhTableSize != e.MhTableSize;
        if (setChanged) vs.SetDestinations(dests);
        if (schedChanged)
        {
            vs.SetScheduler(CreateScheduler(s.Scheduler, flags, s.MhTableSize));
            what.Add($"scheduler {Describe(e.Scheduler, e.Flags)} -> {Describe(s.Scheduler, flags)}" + (s.MhTableSize != e.MhTableSize ? $" mh_table_size {e.MhTableSize} -> {s.MhTableSize}" : ""));
            (e.Scheduler, e.Flags, e.MhTableSize) = (s.Scheduler, flags, s.MhTableSize);
        }
        else if (!setChanged && weightsChanged) vs.WeightsChanged();

        if (vs.PersistenceSeconds != s.PersistenceSeconds) { what.Add($"persistence {vs.PersistenceSeconds} -> {s.PersistenceSeconds}"); vs.PersistenceSeconds = s.PersistenceSeconds; }
        if (vs.PersistencePrefix != s.PersistencePrefix) { what.Add($"persistence_netmask /{vs.PersistencePrefix} -> /{s.PersistencePrefix}"); vs.PersistencePrefix = s.PersistencePrefix; }
        if (what.Count > 0) changes.Add($"service {e}: {string.Join(", ", what)}");
    }
}
