using TunLB.Health;
using TunLB.Core.Model;
using TunLB.Director.Management;

namespace TunLB.Director.Health;

/// <summary>
/// Health judgement: which reals are checked, when their next check is due, and what each result does to their
/// state machine (rise, fall, dampening) and to the agent's weight and admin state. What the scheduler then sees is
/// <see cref="Availability"/>'s business. Used under the state lock only.
/// </summary>
internal sealed class HealthBook(TimeProvider time, Action<string> log, EventLog events)
{
    private readonly Dictionary<int, RealHealth> _reals = new();

    public IReadOnlyDictionary<int, RealHealth> All => _reals;

    public bool TryGet(int destinationId, out RealHealth health) => _reals.TryGetValue(destinationId, out health!);

    /// <summary>Starts tracking <paramref name="d"/> of <paramref name="e"/> with the service's check for its address.</summary>
    public RealHealth Track(ServiceEntry e, Destination d, int configuredWeight)
    {
        var now = time.GetUtcNow();
        var spec = e.Health.Spec.CheckFor(d.Address);
        var h = new RealHealth { Dest = d, Svc = e, Spec = spec, ConfiguredWeight = configuredWeight, LastChange = now };
        if (spec.Enabled)
        {
            h.Machine = new HealthStateMachine(spec.Rise, spec.Fall, spec.Alpha, spec.Dampening, now);
            // Spread the first checks over one interval so a service's reals are not all checked at once.
            h.NextCheck = now + TimeSpan.FromSeconds(spec.IntervalSeconds * Random.Shared.NextDouble() * 0.5);
        }
        _reals[d.Id] = h;
        return h;
    }

    public void AddSorry(RealHealth sorry) => _reals[sorry.Dest.Id] = sorry;

    public void Untrack(Destination d) => _reals.Remove(d.Id);

    public void UntrackAllBut(HashSet<int> live)
    {
        foreach (var id in _reals.Keys.Where(id => !live.Contains(id)).ToList()) _reals.Remove(id);
    }

    /// <summary>The weight from the file or the API (the destination's weight is the effective one).</summary>
    public int ConfiguredWeight(Destination d) => _reals.TryGetValue(d.Id, out var h) ? h.ConfiguredWeight : d.Weight;

    /// <summary>Reals whose next check is due at <paramref name="now"/>; marks them running and schedules the next one.</summary>
    public IReadOnlyList<(RealHealth Health, long Generation)> TakeDue(DateTimeOffset now)
    {
        var due = new List<(RealHealth, long)>();
        foreach (var h in _reals.Values)
        {
            if (!h.Checked || h.Running || h.NextCheck > now) continue;
            h.Running = true;
            h.NextCheck = now + h.Spec.Interval;
            due.Add((h, h.Generation));
        }
        return due;
    }

    /// <summary>
    /// Records one check result. Returns the real it was for, or null when the real is gone or its check changed since.
    /// <paramref name="transition"/> is set when the state machine moved between up and down.
    /// </summary>
    public RealHealth? Observe(int destinationId, CheckResult result, DateTimeOffset now, long? generation, out HealthTransition? transition)
    {
        transition = null;
        if (!_reals.TryGetValue(destinationId, out var h) || h.Machine is null) return null;
        if (generation is long g) { if (g != h.Generation) return null; h.Running = false; }
        h.Last = result;
        h.LastCheck = now;
        if (!result.Ok) h.Failures++;

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
            log($"tunlb director: health: real {Name(h)} agent says {result.Admin.ToString().ToUpperInvariant()} ({result.Detail})");
            Record(h, now, EventKinds.Maintenance, $"agent says {result.Admin.ToString().ToUpperInvariant()} ({result.Detail})");
            h.Admin = result.Admin;
        }

        transition = h.Machine.Observe(result.Ok, now);
        if (transition is { } tr)
        {
            h.LastChange = now;
            log($"tunlb director: health: real {Name(h)} {(tr.Up ? "UP" : "DOWN")} ({tr.Reason}; last: {result.Detail})" +
                (!tr.Up ? (h.Spec.OnFailure == FailureAction.Inhibit ? "; inhibited (weight 0)" : "; removed from scheduling") : ""));
            Record(h, now, EventKinds.Health, $"{(tr.Up ? "UP" : "DOWN")}: {tr.Reason}; last check: {result.Detail}");
        }
        else if (h.Machine.SuppressionReason(now) is { } why && result.Ok && h.Machine.Successes == h.Machine.Rise)
        {
            log($"tunlb director: health: real {Name(h)} stays DOWN: {why}");
        }
        return h;
    }

    /// <summary>
    /// After a reload: each service's new spec; reals that stay keep their state machine (retuned, or replaced keeping
    /// the current state when the check type changed); new reals are tracked; reals no longer in any service are dropped.
    /// Returns the reals whose check changed, for the reload summary.
    /// </summary>
    public void Reload(IReadOnlyList<ServiceEntry> entries, IReadOnlyDictionary<ServiceKey, ServiceHealthSpec> specs, List<string> changes)
    {
        var now = time.GetUtcNow();
        var live = new HashSet<int>();
        foreach (var e in entries)
        {
            var spec = specs.TryGetValue(e.Key, out var sp) ? sp : ServiceHealthSpec.None;
            e.Health.Spec = spec;
            foreach (var d in e.Destinations)
            {
                live.Add(d.Id);
                if (!_reals.TryGetValue(d.Id, out var h)) { Track(e, d, d.Weight); continue; }
                if (h.IsSorry) continue;
                h.Svc = e;
                var check = spec.CheckFor(d.Address);
                if (check == h.Spec) continue;
                Retune(h, check, now);
                changes.Add($"service {e}: real {Format.Endpoint(d.Address, d.Port)} check {check.Describe(d.Port)}");
            }
            if (e.Health.Sorry is { } s) live.Add(s.Dest.Id);
        }
        UntrackAllBut(live);
    }

    /// <summary>
    /// Gives a tracked real a new check: the state machine is retuned, or replaced keeping the current state when the
    /// check type changed; a result of the old check still running is ignored (generation); the next check is due now.
    /// </summary>
    public void Retune(RealHealth h, CheckSpec check, DateTimeOffset now)
    {
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
    }

    private void Record(RealHealth h, DateTimeOffset now, string kind, string message) =>
        events.Record(now, kind, EventKinds.ServiceName(h.Svc.Key), EventKinds.RealName(h.Dest.Address, h.Dest.Port), message);

    public static string Name(RealHealth h) => $"{Format.Endpoint(h.Dest.Address, h.Dest.Port)} of {h.Svc}";
}
