using TunLB.Health;
using TunLB.Core.Flows;
using TunLB.Core.Model;
using TunLB.Director.Management;

namespace TunLB.Director.Health;

/// <summary>
/// What the scheduler sees of each real: its effective weight and whether it is taken out, from the configured
/// weight and the health judgement, the agent, drain and the service's quorum (keepalived's arithmetic), and when a
/// sorry server stands in. Every change marks the service dirty so the next publish rebuilds its scheduler.
/// Used under the state lock only.
/// </summary>
internal sealed class Availability(HealthBook book, RealServerFactory reals, TimeProvider time, DirectorStateOptions options)
{
    /// <summary>Runs a quorum hook command (sh -c); replaced in tests.</summary>
    public Action<string, string> RunHook { get; set; } = options.RunHook ?? HookRunner.Run;

    /// <summary>Sets the configured weight and recomputes the effective one. True when the effective weight changed.</summary>
    public bool SetConfiguredWeight(Destination d, int weight)
    {
        if (!book.TryGet(d.Id, out var h)) { bool c = d.Weight != weight; d.Weight = weight; return c; }
        h.ConfiguredWeight = weight;
        return Apply(h);
    }

    /// <summary>The effective weight and health-down flag from health, agent, drain and quorum. True when either changed.</summary>
    public bool Apply(RealHealth h)
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
        if (changed) h.Svc.Dirty = true;
        return changed;
    }

    /// <summary>The weight the real would have with its health, agent and drain state, before failure actions and quorum.</summary>
    private static int LiveWeight(RealHealth h)
    {
        if (h.Draining || h.Maintenance || h.Admin is AgentAdmin.Drain or AgentAdmin.Maint) return 0;
        if (h.DynamicWeight is int dw) return dw;
        if (h.AgentPercent is int p) return (int)Math.Min(65535, (long)h.ConfiguredWeight * p / 100);
        return h.ConfiguredWeight;
    }

    /// <summary>Sum of weights of live reals (keepalived's quorum arithmetic).</summary>
    public int LiveWeightSum(ServiceEntry e)
    {
        int sum = 0;
        foreach (var d in e.Destinations)
            if (book.TryGet(d.Id, out var h)) { if (!h.IsSorry && h.Up) sum += LiveWeight(h); }
            else if (d.Usable) sum += d.Weight;
        return sum;
    }

    /// <summary>
    /// keepalived's quorum: up when live weight &gt;= quorum + hysteresis, down when &lt; quorum - hysteresis.
    /// Losing it runs quorum_down and, with a sorry server, sends new connections to it and takes the
    /// remaining live reals out; gaining it undoes that and runs quorum_up.
    /// </summary>
    public void EvaluateQuorum(ServiceEntry e, bool initial = false)
    {
        var hs = e.Health;
        var spec = hs.Spec;
        if (!spec.TracksQuorum)
        {
            // Nothing health-related configured: the service is plainly ipvsadm-managed, always "up".
            hs.QuorumUp = true;
            SyncSorry(e);
            return;
        }
        int live = LiveWeightSum(e);
        bool up = hs.QuorumUp;
        if (live >= spec.Quorum + spec.Hysteresis) up = true;
        else if (live < spec.Quorum - spec.Hysteresis) up = false;
        if (up == hs.QuorumUp && !(initial && !up)) { SyncSorry(e); return; }
        hs.QuorumUp = up;
        options.Events.Record(time.GetUtcNow(), EventKinds.Quorum, EventKinds.ServiceName(e.Key), null,
            $"{(up ? "gained" : "lost")} quorum: live weight {live}, quorum {spec.Quorum}, hysteresis {spec.Hysteresis}" +
            (spec.Sorry is { } ss ? $"; sorry server {Format.Endpoint(ss.Address, ss.Port)} {(up ? "out" : "in")}" : ""));
        options.Log($"tunlb director: health: service {e} {(up ? "gained" : "lost")} quorum (live weight {live}, quorum {spec.Quorum}, hysteresis {spec.Hysteresis})" +
            (spec.Sorry is { } s ? (up ? $"; sorry server {Format.Endpoint(s.Address, s.Port)} out" : $"; sorry server {Format.Endpoint(s.Address, s.Port)} in") : ""));
        var hook = up ? spec.QuorumUp : spec.QuorumDown;
        if (hook.Length > 0) RunHook(hook, $"quorum_{(up ? "up" : "down")} of service {e}");
        SyncSorry(e);
    }

    /// <summary>Puts the sorry server in (quorum lost) or quiesces it (quorum up), and sets the reals' QuorumRemoved.</summary>
    private void SyncSorry(ServiceEntry e)
    {
        var hs = e.Health;
        var sorrySpec = hs.Spec.Sorry;
        bool want = !hs.QuorumUp && sorrySpec is not null;
        foreach (var d in e.Destinations)
            if (book.TryGet(d.Id, out var h) && !h.IsSorry && h.QuorumRemoved != want)
            {
                h.QuorumRemoved = want;
                Apply(h);
            }
        bool moved = hs.Sorry is { } cur && sorrySpec is not null && (cur.Dest.Address != sorrySpec.Address || cur.Dest.Port != sorrySpec.Port);
        if (want && (hs.Sorry is null || !hs.SorryActive || moved || !e.Destinations.Contains(hs.Sorry.Dest)))
        {
            if (hs.Sorry is null || hs.Sorry.Dest.Address != sorrySpec!.Address || hs.Sorry.Dest.Port != sorrySpec.Port)
            {
                if (hs.Sorry is { } old)
                {
                    // The file names another sorry server now: the old one leaves at once.
                    old.Dest.Alive = false;
                    book.Untrack(old.Dest);
                    e.Destinations = e.Destinations.Where(x => !ReferenceEquals(x, old.Dest)).ToArray();
                    e.Dirty = true;
                    hs.Sorry = null;
                }
                IpAddress source;
                try { source = reals.SourceToward(sorrySpec!.Address); }
                catch (Exception ex) { options.LogError($"tunlb director: health: sorry server {sorrySpec!.Address} of {e}: no route: {ex.Message}"); return; }
                var d = reals.CreateSorry(sorrySpec.Address, sorrySpec.Port, source);
                var sh = new RealHealth { Dest = d, Svc = e, ConfiguredWeight = sorrySpec.Weight, IsSorry = true, LastChange = time.GetUtcNow() };
                book.AddSorry(sh);
                hs.Sorry = sh;
            }
            hs.SorryActive = true;
            if (!e.Destinations.Contains(hs.Sorry.Dest))
            {
                e.Destinations = [.. e.Destinations, hs.Sorry.Dest];
                e.Dirty = true;
            }
            hs.Sorry.ConfiguredWeight = sorrySpec!.Weight;
            Apply(hs.Sorry);
        }
        else if (!want && hs.Sorry is not null && hs.SorryActive)
        {
            hs.SorryActive = false;
            Apply(hs.Sorry); // weight 0: its connections finish; removed when idle (DirectorState.HealthTick)
        }
    }
}
