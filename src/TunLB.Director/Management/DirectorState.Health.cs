using System.Diagnostics;
using TunLB.Control.Api;
using TunLB.Control.Configuration;
using TunLB.Health;
using TunLB.Core.Flows;
using TunLB.Core.Model;
using TunLB.Core.Packets;

namespace TunLB.Director.Management;

/// <summary>Health bookkeeping of one destination (a real server or a sorry server). Guarded by the state lock.</summary>
public sealed class RealHealth
{
    public required Destination Dest { get; init; }
    internal DirectorState.ServiceEntry Svc { get; set; } = null!;
    public ServiceKey ServiceKey => Svc.Key;
    public CheckSpec Spec { get; internal set; } = new();
    public int ConfiguredWeight { get; internal set; }
    public HealthStateMachine? Machine { get; internal set; }
    public CheckResult? Last { get; internal set; }
    public DateTimeOffset? LastCheck { get; internal set; }
    public DateTimeOffset LastChange { get; internal set; }
    public long Failures { get; internal set; }
    public int? DynamicWeight { get; internal set; }
    public int? AgentPercent { get; internal set; }
    public AgentAdmin Admin { get; internal set; } = AgentAdmin.Ready;
    public bool Draining { get; internal set; }
    public bool RemoveWhenIdle { get; internal set; }
    public bool IsSorry { get; init; }
    /// <summary>Taken out because the service lost quorum and a sorry server took over (keepalived).</summary>
    public bool QuorumRemoved { get; internal set; }
    // Scheduling of checks (HealthMonitor).
    internal bool Running;
    internal DateTimeOffset NextCheck;
    internal long Generation; // bumps when the spec changes, so a result of an old check is ignored

    /// <summary>Health-wise up: no check, or the state machine says up.</summary>
    public bool Up => Machine?.Up ?? true;
    public bool Checked => Spec.Enabled && !IsSorry;
}

/// <summary>Health state of one service: spec, quorum, sorry server.</summary>
internal sealed class ServiceHealthState
{
    public ServiceHealthSpec Spec = ServiceHealthSpec.None;
    public bool QuorumUp = true;
    public RealHealth? Sorry;
    public bool SorryActive;
}

// Health checking, drain, sorry server and quorum: the state side (no I/O but hook commands).
// HealthMonitor (src/TunLB.Director/Health) runs the checks and reports results here.
public sealed partial class DirectorState
{
    private readonly Dictionary<int, RealHealth> _health = new();

    /// <summary>The health clock (UTC); injected for tests.</summary>
    public TimeProvider Time => _o.Time;

    /// <summary>Runs a quorum hook command (sh -c); replaced in tests.</summary>
    public Action<string, string> RunHook { get; set; } = DefaultRunHook;

    internal IReadOnlyDictionary<int, RealHealth> HealthUnlocked => _health;

    /// <summary>Checked reals: address and whether the check goes through the tunnel.</summary>
    public IReadOnlyList<(IpAddress Address, bool Tunnel)> HealthUnlockedSnapshot()
    {
        lock (_gate) return _health.Values.Where(h => h.Checked).Select(h => (h.Dest.Address, h.Spec.ViaTunnel)).ToArray();
    }

    /// <summary>Pinned-check packets forwarded by the data path (0 when checks through the tunnel are off).</summary>
    public long PinnedPackets => Engine.Pinned is { } p ? Interlocked.Read(ref p.Packets) : 0;

    private void Log(string line) => _o.Log(line);

    // ---------------------------------------------------------------- tracking

    /// <summary>Starts tracking the reals of a new service entry (construction, reload, API).</summary>
    private void HealthAttach(ServiceEntry e, ServiceHealthSpec spec)
    {
        e.Health.Spec = spec;
        foreach (var d in e.Vs.Destinations) HealthTrack(e, d, d.Weight);
    }

    private RealHealth HealthTrack(ServiceEntry e, Destination d, int configuredWeight)
    {
        var now = Time.GetUtcNow();
        var spec = e.Health.Spec.CheckFor(d.Address);
        var h = new RealHealth { Dest = d, Svc = e, Spec = spec, ConfiguredWeight = configuredWeight, LastChange = now };
        if (spec.Enabled)
        {
            h.Machine = new HealthStateMachine(spec.Rise, spec.Fall, spec.Alpha, spec.Dampening, now);
            // Spread the first checks over one interval so a service's reals are not all checked at once.
            h.NextCheck = now + TimeSpan.FromSeconds(spec.IntervalSeconds * Random.Shared.NextDouble() * 0.5);
        }
        _health[d.Id] = h;
        ApplyEffective(h);
        return h;
    }

    private void HealthUntrack(Destination d) => _health.Remove(d.Id);

    /// <summary>The weight from the file or the API (the destination's weight is the effective one).</summary>
    public int ConfiguredWeight(Destination d) => _health.TryGetValue(d.Id, out var h) ? h.ConfiguredWeight : d.Weight;

    /// <summary>Sets the configured weight and recomputes the effective one. Returns true when the effective weight changed.</summary>
    private bool SetConfiguredWeight(Destination d, int weight)
    {
        if (!_health.TryGetValue(d.Id, out var h)) { bool c = d.Weight != weight; d.Weight = weight; return c; }
        h.ConfiguredWeight = weight;
        return ApplyEffective(h);
    }

    /// <summary>The effective weight and health-down flag from health, agent, drain and quorum. True when either changed.</summary>
    private bool ApplyEffective(RealHealth h)
    {
        var d = h.Dest;
        int w;
        bool down;
        if (h.IsSorry)
        {
            w = h.Svc.Health.SorryActive ? h.ConfiguredWeight : 0;
            down = false;
        }
        else
        {
            w = LiveWeight(h);
            bool failed = !h.Up;
            if (failed && h.Spec.OnFailure == FailureAction.Inhibit) w = 0;
            down = (failed && h.Spec.OnFailure == FailureAction.Remove) || h.QuorumRemoved;
        }
        bool changed = d.Weight != w || d.HealthDown != down;
        d.HealthDown = down;
        d.Weight = w;
        return changed;
    }

    /// <summary>The weight the real would have with its health, agent and drain state, before failure actions and quorum.</summary>
    private static int LiveWeight(RealHealth h)
    {
        if (h.Draining || h.Admin is AgentAdmin.Drain or AgentAdmin.Maint) return 0;
        if (h.DynamicWeight is int dw) return dw;
        if (h.AgentPercent is int p) return (int)Math.Min(65535, (long)h.ConfiguredWeight * p / 100);
        return h.ConfiguredWeight;
    }

    // ---------------------------------------------------------------- check results

    /// <summary>Reals whose next check is due at <paramref name="now"/>; marks them running and schedules the next one.</summary>
    public IReadOnlyList<(RealHealth Health, long Generation)> TakeDueChecks(DateTimeOffset now)
    {
        lock (_gate)
        {
            var due = new List<(RealHealth, long)>();
            foreach (var h in _health.Values)
            {
                if (!h.Checked || h.Running || h.NextCheck > now) continue;
                h.Running = true;
                h.NextCheck = now + h.Spec.Interval;
                due.Add((h, h.Generation));
            }
            return due;
        }
    }

    /// <summary>Feeds one check result (from the monitor, or from tests). Ignored when the real is gone or its check changed.</summary>
    public void ReportCheck(int destinationId, CheckResult result, DateTimeOffset now, long? generation = null)
    {
        lock (_gate)
        {
            if (!_health.TryGetValue(destinationId, out var h) || h.Machine is null) return;
            if (generation is long g) { if (g != h.Generation) return; h.Running = false; }
            h.Last = result;
            h.LastCheck = now;
            if (!result.Ok) h.Failures++;
            var before = (h.Dest.Weight, h.Dest.HealthDown);

            // Agent and misc_dynamic extras change the weight and admin state, not the health.
            if (result.Ok)
            {
                if (h.Spec.Type == "misc" && h.Spec.Dynamic) h.DynamicWeight = result.Weight;
                if (h.Spec.Type == "agent")
                {
                    if (result.Weight is int aw) { h.DynamicWeight = aw; h.AgentPercent = null; }
                    if (result.WeightPercent is int ap) { h.AgentPercent = ap; h.DynamicWeight = null; }
                }
            }
            if (result.Admin != AgentAdmin.Unchanged && result.Admin != h.Admin)
            {
                Log($"tunlb director: health: real {Name(h)} agent says {result.Admin.ToString().ToUpperInvariant()} ({result.Detail})");
                h.Admin = result.Admin;
            }

            var t = h.Machine.Observe(result.Ok, now);
            if (t is { } tr)
            {
                h.LastChange = now;
                Log($"tunlb director: health: real {Name(h)} {(tr.Up ? "UP" : "DOWN")} ({tr.Reason}; last: {result.Detail})" +
                    (!tr.Up ? (h.Spec.OnFailure == FailureAction.Inhibit ? "; inhibited (weight 0)" : "; removed from scheduling") : ""));
            }
            else if (h.Machine.SuppressionReason(now) is { } why && result.Ok && h.Machine.Successes == h.Machine.Rise)
            {
                Log($"tunlb director: health: real {Name(h)} stays DOWN: {why}");
            }

            ApplyEffective(h);
            if (before != (h.Dest.Weight, h.Dest.HealthDown) || t is not null)
            {
                EvaluateQuorum(h.Svc, now);
                h.Svc.Vs.WeightsChanged();
            }
        }
    }

    private static string Name(RealHealth h) =>
        $"{Validate.Endpoint(h.Dest.Address, h.Dest.Port)} of {h.Svc}";

    // ---------------------------------------------------------------- quorum and sorry server

    /// <summary>Sum of weights of live reals (keepalived's quorum arithmetic).</summary>
    private int LiveWeightSum(ServiceEntry e)
    {
        int sum = 0;
        foreach (var d in e.Vs.Destinations)
            if (_health.TryGetValue(d.Id, out var h) && !h.IsSorry && h.Up) sum += LiveWeight(h);
            else if (!_health.ContainsKey(d.Id) && d.Usable) sum += d.Weight;
        return sum;
    }

    /// <summary>
    /// keepalived's quorum: up when live weight &gt;= quorum + hysteresis, down when &lt; quorum - hysteresis.
    /// Losing it runs quorum_down and, with a sorry server, sends new connections to it and takes the
    /// remaining live reals out; gaining it undoes that and runs quorum_up. Call under the lock.
    /// </summary>
    private void EvaluateQuorum(ServiceEntry e, DateTimeOffset now, bool initial = false)
    {
        var hs = e.Health;
        var spec = hs.Spec;
        if (!spec.TracksQuorum)
        {
            // Nothing health-related configured: the service is plainly ipvsadm-managed, always "up".
            hs.QuorumUp = true;
            SyncSorry(e, now);
            return;
        }
        int live = LiveWeightSum(e);
        bool up = hs.QuorumUp;
        if (live >= spec.Quorum + spec.Hysteresis) up = true;
        else if (live < spec.Quorum - spec.Hysteresis) up = false;
        if (up == hs.QuorumUp && !(initial && !up)) { SyncSorry(e, now); return; }
        hs.QuorumUp = up;
        Log($"tunlb director: health: service {e} {(up ? "gained" : "lost")} quorum (live weight {live}, quorum {spec.Quorum}, hysteresis {spec.Hysteresis})" +
            (spec.Sorry is { } s ? (up ? $"; sorry server {Validate.Endpoint(s.Address, s.Port)} out" : $"; sorry server {Validate.Endpoint(s.Address, s.Port)} in") : ""));
        var hook = up ? spec.QuorumUp : spec.QuorumDown;
        if (hook.Length > 0) RunHook(hook, $"quorum_{(up ? "up" : "down")} of service {e}");
        SyncSorry(e, now);
    }

    /// <summary>Puts the sorry server in (quorum lost) or quiesces it (quorum up), and sets the reals' QuorumRemoved.</summary>
    private void SyncSorry(ServiceEntry e, DateTimeOffset now)
    {
        var hs = e.Health;
        var sorrySpec = hs.Spec.Sorry;
        bool want = !hs.QuorumUp && sorrySpec is not null;
        foreach (var d in e.Vs.Destinations)
            if (_health.TryGetValue(d.Id, out var h) && !h.IsSorry)
            {
                bool qr = want;
                if (h.QuorumRemoved != qr) { h.QuorumRemoved = qr; ApplyEffective(h); }
            }
        bool publish = false;
        bool moved = hs.Sorry is { } cur && sorrySpec is not null && (cur.Dest.Address != sorrySpec.Address || cur.Dest.Port != sorrySpec.Port);
        if (want && (hs.Sorry is null || !hs.SorryActive || moved || !e.Vs.Destinations.Contains(hs.Sorry.Dest)))
        {
            if (hs.Sorry is null || hs.Sorry.Dest.Address != sorrySpec!.Address || hs.Sorry.Dest.Port != sorrySpec.Port)
            {
                if (hs.Sorry is { } old)
                {
                    // The file names another sorry server now: the old one leaves at once.
                    old.Dest.Alive = false;
                    _health.Remove(old.Dest.Id);
                    e.Vs.SetDestinations(e.Vs.Destinations.Where(x => !ReferenceEquals(x, old.Dest)).ToArray());
                    hs.Sorry = null;
                    publish = true;
                }
                IpAddress source;
                try { source = _o.OuterSource(sorrySpec!.Address); }
                catch (Exception ex) { _o.LogError($"tunlb director: health: sorry server {sorrySpec!.Address} of {e}: no route: {ex.Message}"); return; }
                var d = new Destination(_nextDestinationId++, sorrySpec.Address, sorrySpec.Port, 0) { OuterSource = source };
                var sh = new RealHealth { Dest = d, Svc = e, ConfiguredWeight = sorrySpec.Weight, IsSorry = true, LastChange = now };
                _health[d.Id] = sh;
                hs.Sorry = sh;
            }
            hs.SorryActive = true;
            if (!e.Vs.Destinations.Contains(hs.Sorry.Dest))
            {
                e.Vs.SetDestinations([.. e.Vs.Destinations, hs.Sorry.Dest]);
                publish = true;
            }
            hs.Sorry.ConfiguredWeight = sorrySpec!.Weight;
            ApplyEffective(hs.Sorry);
        }
        else if (!want && hs.Sorry is not null && hs.SorryActive)
        {
            hs.SorryActive = false;
            ApplyEffective(hs.Sorry); // weight 0: its connections finish; removed when idle (HealthTick)
        }
        if (publish) Publish(); // registers the sorry server's id with the data path
    }

    private static void DefaultRunHook(string command, string what)
    {
        try
        {
            var psi = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
            psi.ArgumentList.Add("-c");
            psi.ArgumentList.Add(command);
            using var p = Process.Start(psi);
        }
        catch (Exception e) { Console.Error.WriteLine($"tunlb director: health: cannot run {what} \"{command}\": {e.Message}"); }
    }

    // ---------------------------------------------------------------- drain

    /// <summary>Drain: weight 0 until the real has no connections; then delete it when <paramref name="spec"/> asks.</summary>
    public RealDto Drain(string? proto, string? vip, string? port, string? addr, string? rport, DrainSpec? spec)
    {
        lock (_gate)
        {
            var e = FindOr404(proto, vip, port);
            var d = FindRealOr404(e, addr, rport);
            var h = _health[d.Id];
            h.Draining = true;
            h.RemoveWhenIdle = spec?.RemoveWhenIdle ?? false;
            if (ApplyEffective(h)) e.Vs.WeightsChanged();
            EvaluateQuorum(e, Time.GetUtcNow());
            _o.Log($"tunlb director: api: draining real {Validate.Endpoint(d.Address, d.Port)} of service {e}" +
                   (h.RemoveWhenIdle ? " (delete when idle)" : "") + $"; {d.ActiveConnections} active connection(s)");
            HealthTickLocked(Time.GetUtcNow());
            return _health.ContainsKey(d.Id) ? ToDto(d) : ToDto(d) with { Weight = 0 };
        }
    }

    /// <summary>Ends a drain: the configured weight comes back.</summary>
    public RealDto Undrain(string? proto, string? vip, string? port, string? addr, string? rport)
    {
        lock (_gate)
        {
            var e = FindOr404(proto, vip, port);
            var d = FindRealOr404(e, addr, rport);
            var h = _health[d.Id];
            bool was = h.Draining;
            h.Draining = false;
            h.RemoveWhenIdle = false;
            if (ApplyEffective(h)) e.Vs.WeightsChanged();
            EvaluateQuorum(e, Time.GetUtcNow());
            if (was) _o.Log($"tunlb director: api: real {Validate.Endpoint(d.Address, d.Port)} of service {e} no longer draining; weight {d.Weight}");
            return ToDto(d);
        }
    }

    /// <summary>Periodic work: deletes drained reals that are idle, removes an idle quiesced sorry server.</summary>
    public void HealthTick()
    {
        lock (_gate) HealthTickLocked(Time.GetUtcNow());
    }

    private static bool Idle(ServiceEntry e, Destination d) =>
        d.ActiveConnections <= 0 && (e.Key.Protocol == IpProtocol.Tcp || d.InactiveConnections <= 0);

    private void HealthTickLocked(DateTimeOffset now)
    {
        bool publish = false;
        foreach (var e in _entries)
        {
            var dests = e.Vs.Destinations;
            var keep = new List<Destination>(dests.Length);
            foreach (var d in dests)
            {
                _health.TryGetValue(d.Id, out var h);
                if (h is { Draining: true, RemoveWhenIdle: true } && Idle(e, d))
                {
                    d.Alive = false;
                    _health.Remove(d.Id);
                    _o.Log($"tunlb director: health: drained real {Validate.Endpoint(d.Address, d.Port)} of {e} is idle: deleted");
                    continue;
                }
                if (h is { IsSorry: true } && !e.Health.SorryActive && Idle(e, d))
                {
                    // Kept in the registry object (e.Health.Sorry) for the next loss of quorum; out of the data path now.
                    continue;
                }
                keep.Add(d);
            }
            if (keep.Count != dests.Length)
            {
                e.Vs.SetDestinations(keep.ToArray());
                EvaluateQuorum(e, now);
                publish = true;
            }
        }
        if (publish) Publish();
    }

    // ---------------------------------------------------------------- reload

    /// <summary>After a reload's diff: new specs, new and gone reals; machines of reals that stay keep their state.</summary>
    private void HealthReload(DirectorConfig cfg, List<string> changes)
    {
        var now = Time.GetUtcNow();
        var specs = cfg.Services.ToDictionary(s => s.Key, s => s.Health);
        var live = new HashSet<int>();
        foreach (var e in _entries)
        {
            var spec = specs.TryGetValue(e.Key, out var sp) ? sp : ServiceHealthSpec.None;
            e.Health.Spec = spec;
            foreach (var d in e.Vs.Destinations)
            {
                live.Add(d.Id);
                if (!_health.TryGetValue(d.Id, out var h)) { HealthTrack(e, d, d.Weight); continue; }
                if (h.IsSorry) continue;
                h.Svc = e;
                var check = spec.CheckFor(d.Address);
                if (check == h.Spec) continue;
                bool typeChanged = check.Type != h.Spec.Type || check.Alpha != h.Spec.Alpha || check.Dampening != h.Spec.Dampening;
                h.Spec = check;
                h.Generation++;
                h.Running = false;
                if (!check.Enabled) { h.Machine = null; h.DynamicWeight = null; h.AgentPercent = null; }
                else if (h.Machine is null || typeChanged)
                    // A new machine keeps the server's current state (alpha = start down).
                    h.Machine = new HealthStateMachine(check.Rise, check.Fall, !(h.Machine?.Up ?? !check.Alpha), check.Dampening, now);
                else h.Machine.Retune(check.Rise, check.Fall);
                if (check.Enabled) h.NextCheck = now;
                changes.Add($"service {e}: real {Validate.Endpoint(d.Address, d.Port)} check {check.Describe(d.Port)}");
                ApplyEffective(h);
            }
            if (e.Health.Sorry is { } s) live.Add(s.Dest.Id);
        }
        foreach (var id in _health.Keys.Where(id => !live.Contains(id)).ToList()) _health.Remove(id);
        foreach (var e in _entries) { EvaluateQuorum(e, now); e.Vs.WeightsChanged(); }
    }

    // ---------------------------------------------------------------- read side

    private HealthDto? HealthOf(Destination d)
    {
        if (!_health.TryGetValue(d.Id, out var h)) return null;
        var now = Time.GetUtcNow();
        string status = h.IsSorry ? (h.Svc.Health.SorryActive ? "sorry" : "standby") : h.Machine is null ? "unchecked" : h.Up ? "up" : "down";
        return new HealthDto(status, h.IsSorry ? "none" : h.Spec.Describe(d.Port), h.Spec.OnFailure.ToString().ToLowerInvariant(),
            h.ConfiguredWeight, h.Admin.ToString().ToLowerInvariant(), h.Draining, h.RemoveWhenIdle,
            h.Machine?.SuppressionReason(now) is not null || (h.Machine?.Suppressed ?? false), h.IsSorry,
            h.Last?.Ok, h.Last?.Detail ?? "", h.Last?.Duration.TotalSeconds ?? 0, h.LastCheck, h.LastChange, h.Failures,
            h.Machine?.Transitions ?? 0);
    }

    /// <summary>GET /api/v1/health.</summary>
    public HealthReportDto HealthReport()
    {
        lock (_gate)
        {
            var services = _entries.Select(e =>
            {
                var reals = e.Vs.Destinations.Select(d => new RealHealthDto(d.Address.ToString(), d.Port, d.Weight, HealthOf(d)!)).Where(r => r.Health is not null).ToList();
                if (e.Health.Sorry is { } s && !e.Vs.Destinations.Contains(s.Dest))
                    reals.Add(new RealHealthDto(s.Dest.Address.ToString(), s.Dest.Port, 0, HealthOf(s.Dest)!));
                var sp = e.Health.Spec;
                return new ServiceHealthDto(e.ProtocolName, e.Key.Vip.ToString(), e.Key.Port, e.Health.QuorumUp, LiveWeightSum(e),
                    sp.Quorum, sp.Hysteresis, e.Health.SorryActive, sp.Sorry is { } ss ? Validate.Endpoint(ss.Address, ss.Port) : null, reals);
            }).ToArray();
            var pins = Engine.Pinned;
            return new HealthReportDto(services, PinnedPackets, pins is null ? Settings.CheckPortRange + " (not in use)" : $"{pins.FirstPort}-{pins.LastPort}");
        }
    }
}
