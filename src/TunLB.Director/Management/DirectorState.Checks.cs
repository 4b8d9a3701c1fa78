using TunLB.Core.Flows;
using TunLB.Core.Model;
using TunLB.Health;

namespace TunLB.Director.Management;

// Health checks and maintenance set at run time (API, tunlb adm --check, the status page). The checks are validated by
// the API with the config file's rules (CheckRules); here they are applied as a reload would apply the same file.
public sealed partial class DirectorState
{
    /// <summary>Sets (or with null removes) a service's check; reals without a check of their own follow it.</summary>
    public ServiceView SetServiceCheck(ServiceKey key, CheckSpec? check)
    {
        Change(() =>
        {
            var e = Get(key);
            var spec = e.Health.Spec;
            var next = check ?? new CheckSpec();
            if (next == spec.Check) return 0;
            e.Health.Spec = spec with { Check = next };
            var now = _o.Time.GetUtcNow();
            foreach (var d in e.Destinations)
                if (_health.TryGet(d.Id, out var h) && !h.IsSorry && !spec.PerReal.ContainsKey(d.Address)) Retune(h, next, now);
            _availability.EvaluateQuorum(e);
            string what = check is null ? "check removed" : "check " + next.Describe(key.Port);
            _o.Log($"tunlb director: api: service {e}: {what}");
            RecordEvent(EventKinds.Health, EventKinds.ServiceName(e.Key), null, what);
            return 0;
        });
        return _view.Find(key)!;
    }

    /// <summary>
    /// Sets a real's own check (as [service.real.check]); null removes it, so the service's check applies again.
    /// </summary>
    public RealView SetRealCheck(ServiceKey key, IpAddress address, ushort port, CheckSpec? check)
    {
        var id = Change(() =>
        {
            var e = Get(key);
            var d = GetReal(e, address, port);
            var spec = e.Health.Spec;
            var perReal = new Dictionary<IpAddress, CheckSpec>(spec.PerReal);
            if (check is null) perReal.Remove(d.Address);
            else perReal[d.Address] = check;
            e.Health.Spec = spec with { PerReal = perReal };
            var next = e.Health.Spec.CheckFor(d.Address);
            if (_health.TryGet(d.Id, out var h) && next != h.Spec)
            {
                Retune(h, next, _o.Time.GetUtcNow());
                _availability.EvaluateQuorum(e);
            }
            string what = check is null ? $"own check removed; service check: {next.Describe(d.Port)}" : "check " + next.Describe(d.Port);
            _o.Log($"tunlb director: api: real {Format.Endpoint(d.Address, d.Port)} of service {e}: {what}");
            RecordEvent(EventKinds.Health, EventKinds.ServiceName(e.Key), EventKinds.RealName(d.Address, d.Port), what);
            return d.Id;
        });
        return FindView(key, id);
    }

    /// <summary>Maintenance on (weight 0, as a drain that never deletes) or off (ready: maintenance and drain end).</summary>
    public RealView SetMaintenance(ServiceKey key, IpAddress address, ushort port, bool on)
    {
        var id = Change(() =>
        {
            var e = Get(key);
            var d = GetReal(e, address, port);
            _health.TryGet(d.Id, out var h);
            bool was = h.Maintenance, drained = h.Draining;
            h.Maintenance = on;
            if (!on) { h.Draining = false; h.RemoveWhenIdle = false; }
            _availability.Apply(h);
            _availability.EvaluateQuorum(e);
            if (was != on || (!on && drained))
            {
                string what = on ? "maintenance: weight 0" : $"ready: weight {d.Weight}";
                _o.Log($"tunlb director: api: real {Format.Endpoint(d.Address, d.Port)} of service {e}: {what}");
                RecordEvent(EventKinds.Maintenance, EventKinds.ServiceName(e.Key), EventKinds.RealName(d.Address, d.Port), what);
            }
            return d.Id;
        });
        return FindView(key, id);
    }

    private void Retune(Health.RealHealth h, CheckSpec check, DateTimeOffset now)
    {
        _health.Retune(h, check, now);
        _availability.Apply(h);
    }
}
