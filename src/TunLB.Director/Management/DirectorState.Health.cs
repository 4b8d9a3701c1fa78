using TunLB.Health;
using TunLB.Core.Flows;
using TunLB.Core.Model;
using TunLB.Core.Packets;
using TunLB.Director.Health;

namespace TunLB.Director.Management;

// Health: check results from HealthMonitor, drain, and the periodic tick. The judgement is HealthBook's, the
// weights Availability's; this file only sequences them and publishes.
public sealed partial class DirectorState
{
    /// <summary>Reals whose next check is due at <paramref name="now"/>; marks them running and schedules the next one.</summary>
    public IReadOnlyList<(RealHealth Health, long Generation)> TakeDueChecks(DateTimeOffset now)
    {
        lock (_gate) return _health.TakeDue(now);
    }

    /// <summary>Feeds one check result (from the monitor, or from tests). Ignored when the real is gone or its check changed.</summary>
    public void ReportCheck(int destinationId, CheckResult result, DateTimeOffset now, long? generation = null) => Change(() =>
    {
        var h = _health.Observe(destinationId, result, now, generation, out var transition);
        if (h is null) return 0;
        if (_availability.Apply(h) || transition is not null) _availability.EvaluateQuorum(h.Svc);
        return 0;
    });

    /// <summary>Drain: weight 0 until the real has no connections; then delete it when <paramref name="removeWhenIdle"/>.</summary>
    public RealView Drain(ServiceKey key, IpAddress address, ushort port, bool removeWhenIdle)
    {
        RealView? removed = null;
        var id = Change(() =>
        {
            var e = Get(key);
            var d = GetReal(e, address, port);
            _health.TryGet(d.Id, out var h);
            h.Draining = true;
            h.RemoveWhenIdle = removeWhenIdle;
            _availability.Apply(h);
            _availability.EvaluateQuorum(e);
            _o.Log($"tunlb director: api: draining real {Format.Endpoint(d.Address, d.Port)} of service {e}" +
                   (h.RemoveWhenIdle ? " (delete when idle)" : "") + $"; {d.ActiveConnections} active connection(s)");
            RecordEvent(EventKinds.Drain, EventKinds.ServiceName(e.Key), EventKinds.RealName(d.Address, d.Port),
                $"draining{(h.RemoveWhenIdle ? " (delete when idle)" : "")}; {d.ActiveConnections} active connection(s)");
            removed = RealViewOf(d, null); // as answered when the tick below deletes it at once
            Tick();
            return d.Id;
        });
        return _view.Find(key)?.Reals.FirstOrDefault(r => r.Dest.Id == id) ?? removed!;
    }

    /// <summary>Ends a drain: the configured weight comes back.</summary>
    public RealView Undrain(ServiceKey key, IpAddress address, ushort port)
    {
        var id = Change(() =>
        {
            var e = Get(key);
            var d = GetReal(e, address, port);
            _health.TryGet(d.Id, out var h);
            bool was = h.Draining;
            h.Draining = false;
            h.RemoveWhenIdle = false;
            _availability.Apply(h);
            _availability.EvaluateQuorum(e);
            if (was)
            {
                _o.Log($"tunlb director: api: real {Format.Endpoint(d.Address, d.Port)} of service {e} no longer draining; weight {d.Weight}");
                RecordEvent(EventKinds.Drain, EventKinds.ServiceName(e.Key), EventKinds.RealName(d.Address, d.Port), $"no longer draining; weight {d.Weight}");
            }
            return d.Id;
        });
        return FindView(key, id);
    }

    /// <summary>Periodic work: deletes drained reals that are idle, takes an idle quiesced sorry server out.</summary>
    public void HealthTick() => Change(() => { Tick(); return 0; });

    private static bool Idle(ServiceEntry e, Destination d) =>
        d.ActiveConnections <= 0 && (e.Key.Protocol == IpProtocol.Tcp || d.InactiveConnections <= 0);

    private void Tick()
    {
        foreach (var e in _entries)
        {
            var keep = new List<Destination>(e.Destinations.Length);
            foreach (var d in e.Destinations)
            {
                _health.TryGet(d.Id, out var h);
                if (h is { Draining: true, RemoveWhenIdle: true } && Idle(e, d))
                {
                    d.Alive = false;
                    _health.Untrack(d);
                    _o.Log($"tunlb director: health: drained real {Format.Endpoint(d.Address, d.Port)} of {e} is idle: deleted");
                    RecordEvent(EventKinds.Drain, EventKinds.ServiceName(e.Key), EventKinds.RealName(d.Address, d.Port), "drained and idle: deleted");
                    continue;
                }
                // An idle quiesced sorry server stays in e.Health.Sorry for the next loss of quorum; out of the data path now.
                if (h is { IsSorry: true } && !e.Health.SorryActive && Idle(e, d)) continue;
                keep.Add(d);
            }
            if (keep.Count != e.Destinations.Length)
            {
                e.Destinations = keep.ToArray();
                e.Dirty = true;
                _availability.EvaluateQuorum(e);
            }
        }
    }
}
