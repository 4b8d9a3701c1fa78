using TunLB.Control.Api;
using TunLB.Control.Configuration;
using TunLB.Core.Model;
using TunLB.Core.Packets;
using TunLB.Core.Scheduling;
using TunLB.Director.Management;

namespace TunLB.Director.Api;

/// <summary>
/// The management API's operations over a <see cref="DirectorState"/>: checks every request field (<see cref="Validate"/>,
/// the config loader's rules), calls the state's typed operation, maps the result to DTOs (<see cref="Dtos"/>) and turns
/// refusals into HTTP errors (<see cref="ApiException"/>). Nothing changes when a request is refused.
/// </summary>
public sealed class DirectorApi(DirectorState state)
{
    public DirectorState State { get; } = state;

    public InfoDto Info()
    {
        var v = typeof(DirectorState).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";
        var workers = State.Engines.Select(e => new WorkerDto(e.WorkerIndex, e.Connections.Capacity, e.Connections.Count,
            e.ForwardedPackets, e.PeerAdopted)).ToArray();
        var io = State.Io;
        return new InfoDto(v, State.ConnectionCapacity, State.ConnectionCount, State.Settings.Api, workers,
            io?.Backend.ConfigName(), io?.Requested.ConfigName(), io?.Skipped, State.Tx);
    }

    public DirectorStatusDto DirectorStatus()
    {
        var a = State.Announcement;
        var last = a.Last;
        bool on = State.Settings.Announce;
        return new DirectorStatusDto(on, on ? State.Settings.AnnounceTable : null, a.Drained,
            last.Announced.Select(v => v.ToString()).ToArray(), last.Withheld);
    }

    /// <summary>Drain (true) or undrain the director: withdraw every VIP while the data plane keeps forwarding.</summary>
    public DirectorStatusDto DrainDirector(bool drain)
    {
        if (!State.Settings.Announce)
            throw ApiException.Conflict("announce", "this director does not announce its VIPs (announce = false in [director]); nothing to drain");
        if (drain) State.Announcement.Drain();
        else State.Announcement.Undrain();
        // The announcer applies the flag within its period (100 ms); `announced` may still show the VIPs until then.
        return DirectorStatus();
    }

    public IReadOnlyList<ServiceDto> ListServices() => State.View.Services.Select(Dtos.Service).ToArray();

    public ServiceDto GetService(string? proto, string? vip, string? port) => Dtos.Service(FindService(Key(proto, vip, port)));

    public StatsSummaryDto Stats()
    {
        var drops = new SortedDictionary<string, long>(StringComparer.Ordinal);
        var sum = State.Drops();
        for (int i = 1; i < DropReasons.Count; i++) drops[DropReasons.Names[i]] = sum[i];
        long c = 0, p = 0, b = 0;
        foreach (var s in State.View.Services) { c += s.Service.Connections; p += s.Service.InPackets; b += s.Service.InBytes; }
        var f = SynFloodTotals.Of(State.Engines);
        return new StatsSummaryDto(new StatsDto(c, p, 0, b, 0), Dtos.Rates(State.TotalRates), drops, State.Evictions, State.Refusals,
            new SynFloodDto(f.WorkersActive, f.Engagements, f.EvictedHalfOpen, f.HalfOpen, f.StatelessScheduled, f.StatelessAdopted));
    }

    public IReadOnlyList<ConnectionDto> ListConnections(int limit = int.MaxValue) => Run(() => State.ListConnections(limit))
        .Select(c => new ConnectionDto(Validate.ProtocolName(c.Protocol), c.Client, c.ClientPort, c.Vip, c.VipPort, c.Real, c.RealPort,
            c.State, c.ExpiresSeconds, c.Template)).ToArray();

    public ServiceDto AddService(ServiceSpec spec)
    {
        var definition = Definition(spec);
        return Dtos.Service(Run(() => State.AddService(definition)));
    }

    /// <summary>A new service from its spec, with every field checked (shared with the batch endpoint).</summary>
    internal static ServiceDefinition Definition(ServiceSpec spec)
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
        return new ServiceDefinition(new ServiceKey(vip, port, proto), sched, flags, mh, persistence, prefix);
    }

    public ServiceDto EditService(string? proto, string? vip, string? port, ServiceSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var s = FindService(Key(proto, vip, port));
        var change = Change(spec, s.Key, s.Scheduler);
        return Dtos.Service(Run(() => State.EditService(s.Key, change)));
    }

    /// <summary>A service edit from its spec, checked against the service's key and scheduler (shared with the batch endpoint).</summary>
    internal static ServiceChange Change(ServiceSpec spec, ServiceKey key, string scheduler)
    {
        if (spec.Protocol is not null && Validate.Protocol(spec.Protocol) != key.Protocol)
            throw ApiException.BadRequest("protocol", "a service's protocol cannot change; delete it and add a new one");
        if (spec.Vip is not null && Validate.HostAddress(spec.Vip, "vip") != key.Vip)
            throw ApiException.BadRequest("vip", "a service's vip cannot change; delete it and add a new one");
        if (spec.Port is not null && Validate.Port(spec.Port, "port") != key.Port)
            throw ApiException.BadRequest("port", "a service's port cannot change; delete it and add a new one");
        var sched = spec.Scheduler is null ? null : Validate.Scheduler(spec.Scheduler);
        var flags = spec.Flags is null ? null : Validate.Flags(spec.Flags, sched ?? scheduler);
        int? mh = spec.MhTableSize is null ? null : Validate.MhTableSize(spec.MhTableSize.Value);
        int? persistence = spec.Persistence is null ? null : Validate.Range(spec.Persistence.Value, 0, ConfigLoader.MaxTimeoutSeconds, "persistence");
        int? prefix = spec.PersistenceNetmask is null ? null : Validate.Netmask(spec.PersistenceNetmask, !key.Vip.IsV4);
        return new ServiceChange(sched, flags, mh, persistence, prefix);
    }

    public void DeleteService(string? proto, string? vip, string? port) => Run(() => { State.DeleteService(Key(proto, vip, port)); return 0; });

    public void Clear() => State.Clear();

    public RealDto AddReal(string? proto, string? vip, string? port, RealSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var key = Key(proto, vip, port);
        FindService(key);
        // Mixed families are fine: an IPv4 VIP over an IPv6 outer header (4in6) and IPv6 over IPv4 (6in4).
        var real = Valid(RealSpecRules.Check(spec, key.Port));
        return Dtos.Real(Run(() => State.AddReal(key, real)));
    }

    public RealDto EditReal(string? proto, string? vip, string? port, string? addr, string? rport, RealSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var key = Key(proto, vip, port);
        var r = FindReal(key, addr, rport);
        var d = r.Dest;
        // Mtu 0: the API cannot change it, and the effective one (the route's, or learned) need not be a valid setting.
        var current = new RealServerSettings(d.Address, d.Port, r.ConfiguredWeight, d.UpperThreshold, d.LowerThreshold, d.Encap, d.GuePort, d.GueChecksum, 0);
        var change = RealChangeOf(spec, current);
        return Dtos.Real(Run(() => State.EditReal(key, d.Address, d.Port, change)));
    }

    /// <summary>A real server edit from its spec over its current settings (shared with the batch endpoint).</summary>
    internal static RealChange RealChangeOf(RealSpec spec, RealServerSettings current)
    {
        if (spec.Address is not null && Validate.HostAddress(spec.Address, "address") != current.Address)
            throw ApiException.BadRequest("address", "a real server's address cannot change; delete it and add a new one");
        if (spec.Port is not null && Validate.Port(spec.Port, "port") != current.Port)
            throw ApiException.BadRequest("port", "a real server's port cannot change; delete it and add a new one");
        var next = Valid(RealSpecRules.CheckEdit(spec, current));
        bool tunnel = spec.TunType is not null;
        return new RealChange(spec.Weight is null ? null : next.Weight, spec.UpperThreshold is null ? null : next.UpperThreshold,
            spec.LowerThreshold is null ? null : next.LowerThreshold, tunnel ? next.Encap : null, tunnel ? next.GuePort : null, tunnel ? next.GueChecksum : null);
    }

    /// <summary>The validated settings, or a 400 naming the first field at fault and listing every error.</summary>
    internal static RealServerSettings Valid(RealServerCheck check)
    {
        if (check.Ok) return check.Value!;
        var first = check.Errors[0];
        throw new ApiException(400, first.Field, first.Message, check.Errors.Count > 1 ? check.Errors.Select(e => e.ToString()).ToArray() : null);
    }

    public void DeleteReal(string? proto, string? vip, string? port, string? addr, string? rport)
    {
        var key = Key(proto, vip, port);
        var r = FindReal(key, addr, rport);
        Run(() => { State.DeleteReal(key, r.Dest.Address, r.Dest.Port); return 0; });
    }

    public RealDto Drain(string? proto, string? vip, string? port, string? addr, string? rport, DrainSpec? spec)
    {
        var key = Key(proto, vip, port);
        var r = FindReal(key, addr, rport);
        return Dtos.Real(Run(() => State.Drain(key, r.Dest.Address, r.Dest.Port, spec?.RemoveWhenIdle ?? false)));
    }

    public RealDto Undrain(string? proto, string? vip, string? port, string? addr, string? rport)
    {
        var key = Key(proto, vip, port);
        var r = FindReal(key, addr, rport);
        return Dtos.Real(Run(() => State.Undrain(key, r.Dest.Address, r.Dest.Port)));
    }

    public HealthReportDto HealthReport() => Dtos.HealthReport(State.View, State.PinnedPackets);

    public void Zero(ZeroSpec? spec)
    {
        if (spec is null || (spec.Protocol is null && spec.Vip is null && spec.Port is null)) { Run(() => { State.Zero(null); return 0; }); return; }
        var key = new ServiceKey(Validate.HostAddress(spec.Vip, "vip"), Validate.Port(spec.Port, "port"), Validate.Protocol(spec.Protocol ?? "tcp"));
        FindService(key);
        Run(() => { State.Zero(key); return 0; });
    }

    public TimeoutsDto GetTimeouts() => Dtos.Timeouts(State.Timeouts);

    /// <summary>ipvsadm --set tcp tcpfin udp (seconds; 0 = unchanged).</summary>
    public TimeoutsDto SetTimeouts(TimeoutsDto t)
    {
        ArgumentNullException.ThrowIfNull(t);
        Validate.Range(t.Tcp, 0, ConfigLoader.MaxTimeoutSeconds, "tcp");
        Validate.Range(t.TcpFin, 0, ConfigLoader.MaxTimeoutSeconds, "tcp_fin");
        Validate.Range(t.Udp, 0, ConfigLoader.MaxTimeoutSeconds, "udp");
        return Dtos.Timeouts(Run(() => State.SetTimeouts(t.Tcp, t.TcpFin, t.Udp)));
    }

    public ReloadResultDto Reload()
    {
        var r = State.Reload();
        return new ReloadResultDto(r.Ok, r.File, r.Changes, r.Errors);
    }

    private static ServiceKey Key(string? proto, string? vip, string? port) =>
        new(Validate.HostAddress(vip, "vip"), Validate.Port(port, "port"), Validate.Protocol(proto));

    private ServiceView FindService(ServiceKey key) => State.View.Find(key)
        ?? throw ApiException.NotFound("vip", $"no service {Validate.ProtocolName(key.Protocol)} {Validate.Endpoint(key.Vip, key.Port)}");

    private RealView FindReal(ServiceKey key, string? addr, string? rport)
    {
        var s = FindService(key);
        var a = Validate.HostAddress(addr, "address");
        var p = Validate.Port(rport, "port");
        return s.FindReal(a, p) ?? throw ApiException.NotFound("address", $"no real server {Validate.Endpoint(a, p)} in service {s}");
    }

    /// <summary>Runs a state operation, turning its refusal into the matching HTTP error.</summary>
    internal static T Run<T>(Func<T> op)
    {
        try { return op(); }
        catch (ManagementException e)
        {
            int status = e.Error switch
            {
                ManagementError.NotFound => 404,
                ManagementError.Conflict => 409,
                ManagementError.Unavailable => 503,
                _ => 400,
            };
            throw new ApiException(status, e.Field, e.Message);
        }
    }
}
