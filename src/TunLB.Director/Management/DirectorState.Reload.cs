using TunLB.Control.Configuration;
using TunLB.Core.Connections;
using TunLB.Core.Flows;
using TunLB.Core.Model;

namespace TunLB.Director.Management;

/// <summary>What a reload did: the changes applied, or the errors that stopped it (then nothing changed).</summary>
public sealed record ReloadResult(bool Ok, string File, IReadOnlyList<string> Changes, IReadOnlyList<string> Errors);

// Reload: SIGHUP and POST /api/v1/reload. ReloadPlanner decides; this file resolves routes (outside the lock) and applies.
public sealed partial class DirectorState
{
    /// <summary>Successful and failed reloads since start.</summary>
    public long ReloadsOk, ReloadsFailed;
    public bool LastReloadOk { get; private set; } = true;
    public DateTimeOffset LastReloadTime { get; private set; } = DateTimeOffset.UtcNow;

    /// <summary>Called around a reload (for sd_notify RELOADING=1 / READY=1).</summary>
    public Action? ReloadStarting { get; set; }
    public Action? ReloadFinished { get; set; }

    // One reload at a time, from reading the file to the last change: SIGHUP reloads on the signal thread, the API on
    // the thread pool. Interleaved, a reload that read an older file could apply it after a newer one (the reload storm
    // showed one: the last reload reported was a good file read before the broken one the API had just refused).
    private readonly object _reloadGate = new();

    /// <summary>Reloads the config file (SIGHUP, POST /api/v1/reload). A bad file changes nothing. One at a time.</summary>
    public ReloadResult Reload()
    {
        lock (_reloadGate)
        {
            ReloadStarting?.Invoke();
            try
            {
                DirectorConfig cfg;
                try { cfg = ConfigLoader.LoadDirector(ConfigPath); }
                catch (ConfigException ex) { return Failed(ex.Errors.Select(x => x.ToString()).ToArray()); }
                return Apply(cfg);
            }
            finally
            {
                ReloadFinished?.Invoke();
            }
        }
    }

    private ReloadResult Failed(IReadOnlyList<string> errors)
    {
        lock (_gate)
        {
            ReloadsFailed++;
            LastReloadOk = false;
            LastReloadTime = DateTimeOffset.UtcNow;
        }
        RecordEvent(EventKinds.Reload, null, null, $"reload of {ConfigPath} failed, nothing changed: {string.Join("; ", errors)}");
        _o.LogError($"tunlb director: reload of {ConfigPath} failed, nothing changed ({errors.Count} error(s)):");
        foreach (var e in errors) _o.LogError(e);
        return new ReloadResult(false, ConfigPath, [], errors);
    }

    /// <summary>
    /// Makes the runtime match <paramref name="cfg"/>, diff-based (<see cref="ReloadPlanner"/>). Atomic: the routes
    /// toward new reals and the path MTUs are resolved first, outside the lock; if any real has no route nothing changes.
    /// </summary>
    public ReloadResult Apply(DirectorConfig cfg)
    {
        ArgumentNullException.ThrowIfNull(cfg);
        ReloadPlan plan;
        lock (_gate) plan = ReloadPlanner.Plan(Current(), _settings, cfg);

        var sources = new Dictionary<IpAddress, IpAddress>();
        var errors = new List<string>();
        foreach (var (address, line) in plan.NewReals)
        {
            if (sources.ContainsKey(address)) continue;
            try { sources[address] = _reals.SourceToward(address); }
            catch (Exception ex) { errors.Add($"{cfg.SourcePath}:{line}:1: service real {address}: no route: {ex.Message}"); }
        }
        if (errors.Count > 0) return Failed(errors);
        var mtus = cfg.Services.SelectMany(s => s.Reals).Where(r => r.Mtu == 0).Select(r => r.Address).Distinct()
            .ToDictionary(a => a, _reals.PathMtu);

        var result = Change<List<string>?>(() =>
        {
            // The services may have changed since the plan (API, health): plan again; reals new since then are resolved
            // here, before anything changes, so a missing route still changes nothing.
            var p = ReloadPlanner.Plan(Current(), _settings, cfg);
            foreach (var (address, line) in p.NewReals)
            {
                if (sources.ContainsKey(address)) continue;
                try { sources[address] = _reals.SourceToward(address); }
                catch (Exception ex) { errors.Add($"{cfg.SourcePath}:{line}:1: service real {address}: no route: {ex.Message}"); }
            }
            if (errors.Count > 0) return null;
            var changes = new List<string>();
            foreach (var key in p.DeletedServices)
            {
                var gone = Find(key)!;
                _entries.Remove(gone);
                Retire(gone.Destinations);
                changes.Add($"service {gone} deleted");
            }
            var next = new List<ServiceEntry>();
            foreach (var sp in p.Services) next.Add(ApplyService(sp, sources, mtus, changes));
            _entries.Clear();
            _entries.AddRange(next);

            if (p.Timeouts is { } t)
            {
                var timeouts = ConnTimeouts.Default.WithIpvsadmSet(t.Tcp, t.TcpFin, t.Udp);
                OnWorkers(engine => { engine.SetTimeouts(timeouts); return 0; });
            }
            changes.AddRange(p.Notes);
            var d1 = cfg.Director;
            _settings = _settings with { TimeoutTcp = d1.TimeoutTcp, TimeoutTcpFin = d1.TimeoutTcpFin, TimeoutUdp = d1.TimeoutUdp };

            _health.Reload(_entries, cfg.Services.ToDictionary(s => s.Key, s => s.Health), changes);
            EgressResults.SetMetadata(cfg.Services.SelectMany(s => s.Reals));
            foreach (var h in _health.All.Values) _availability.Apply(h);
            foreach (var e in _entries) _availability.EvaluateQuorum(e);
            ReloadsOk++;
            LastReloadOk = true;
            LastReloadTime = DateTimeOffset.UtcNow;
            return changes;
        });
        if (result is null) return Failed(errors);
        _o.Log($"tunlb director: reloaded {ConfigPath}: " + (result.Count == 0 ? "no changes" : string.Join("; ", result)));
        RecordEvent(EventKinds.Reload, null, null, $"reloaded {ConfigPath}: " + (result.Count == 0 ? "no changes" : string.Join("; ", result)));
        return new ReloadResult(true, ConfigPath, result, []);
    }

    /// <summary>The running services as the planner sees them (sorry servers are not in the file's reals).</summary>
    private List<CurrentService> Current() => _entries.Select(e => new CurrentService(e.Key, e.Scheduler, e.Flags, e.MhTableSize,
        e.PersistenceSeconds, e.PersistencePrefix,
        e.Destinations.Where(d => !(_health.TryGet(d.Id, out var h) && h.IsSorry))
            .Select(d => new CurrentReal(d.Address, d.Port, _health.ConfiguredWeight(d), d.UpperThreshold, d.LowerThreshold, d.Encap, d.GuePort, d.GueChecksum))
            .ToArray())).ToList();

    private ServiceEntry ApplyService(ServicePlan sp, Dictionary<IpAddress, IpAddress> sources, Dictionary<IpAddress, int> mtus, List<string> changes)
    {
        var s = sp.Config;
        var e = sp.IsNew ? NewEntry(s) : Find(s.Key)!;
        var old = e.Destinations.Where(x => !(_health.TryGet(x.Id, out var xh) && xh.IsSorry)).ToArray();
        var dests = new Destination[sp.Reals.Count];
        var what = new List<string>();
        for (int i = 0; i < dests.Length; i++)
        {
            var rp = sp.Reals[i];
            var def = rp.Definition with { Mtu = rp.Definition.Mtu != 0 ? rp.Definition.Mtu : mtus.GetValueOrDefault(rp.Definition.Address) };
            if (rp.IsNew)
            {
                dests[i] = _reals.Create(def, sources[def.Address]);
                what.AddRange(rp.Changes);
                continue;
            }
            var d = old.First(x => x.Address == def.Address && x.Port == def.Port);
            what.AddRange(rp.Changes);
            if (rp.WeightChanged) _availability.SetConfiguredWeight(d, def.Weight);
            if (rp.ThresholdsChanged) { d.UpperThreshold = def.UpperThreshold; d.LowerThreshold = def.LowerThreshold; }
            int mtu = d.Mtu;
            _reals.ApplyTunnel(d, def);
            if (mtu != d.Mtu) what.Add($"real {Format.Endpoint(d.Address, d.Port)} mtu {mtu} -> {d.Mtu}");
            dests[i] = d;
        }
        foreach (var gone in old.Where(o => !dests.Contains(o)))
        {
            gone.Alive = false;
            _health.Untrack(gone);
            what.Add($"real {Format.Endpoint(gone.Address, gone.Port)} deleted");
        }
        if (sp.IsNew)
        {
            e.Destinations = dests;
            e.Health.Spec = s.Health;
            changes.Add($"service {e} added ({s.Reals.Count} real(s))");
            return e;
        }
        if (sp.SetChanged)
        {
            // The sorry server, while in, stays in the data path after the file's reals.
            e.Destinations = e.Destinations.Length == old.Length ? dests : [.. dests, .. e.Destinations.Except(old)];
            e.Dirty = true;
        }
        if (sp.ServiceChanges.Count > 0)
        {
            (e.Scheduler, e.Flags, e.MhTableSize) = (s.Scheduler, s.SchedulerFlags.ToArray(), s.MhTableSize);
            (e.PersistenceSeconds, e.PersistencePrefix) = (s.PersistenceSeconds, s.PersistencePrefix);
            e.Dirty = true;
        }
        what.AddRange(sp.ServiceChanges);
        if (what.Count > 0) changes.Add($"service {e}: {string.Join(", ", what)}");
        return e;
    }
}
