using TunLB.Control.Configuration;
using TunLB.Core.Packets;

namespace TunLB.Director.Management;

/// <summary>
/// The diff of a reload, as a pure function: the running services and settings plus the new file give a
/// <see cref="ReloadPlan"/>. A real present before and after (same service, same address:port) is kept (its flows,
/// counters and health go on); a scheduler is replaced only when its name, flags or table size changed.
/// </summary>
public static class ReloadPlanner
{
    public static ReloadPlan Plan(IReadOnlyList<CurrentService> current, DirectorSettings running, DirectorConfig next)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(next);
        var byKey = current.ToDictionary(s => s.Key);
        var newKeys = next.Services.Select(s => s.Key).ToHashSet();
        var deleted = current.Where(s => !newKeys.Contains(s.Key)).Select(s => s.Key).ToArray();
        var services = next.Services.Select(s => byKey.TryGetValue(s.Key, out var old) ? Diff(old, s) : New(s)).ToArray();

        var d1 = next.Director;
        (int, int, int)? timeouts = running.TimeoutTcp != d1.TimeoutTcp || running.TimeoutTcpFin != d1.TimeoutTcpFin || running.TimeoutUdp != d1.TimeoutUdp
            ? (d1.TimeoutTcp, d1.TimeoutTcpFin, d1.TimeoutUdp) : null;
        var notes = new List<string>();
        if (timeouts is not null)
            notes.Add($"timeouts (tcp tcpfin udp) {running.TimeoutTcp} {running.TimeoutTcpFin} {running.TimeoutUdp} -> {d1.TimeoutTcp} {d1.TimeoutTcpFin} {d1.TimeoutUdp}");
        foreach (var (name, a, b) in DirectorKeys.RestartOnly(running, d1))
            notes.Add($"{name} changed ({a} -> {b}) but needs a restart; still {a}");
        return new ReloadPlan(deleted, services, timeouts, notes);
    }

    private static ServicePlan New(ServiceConfig s) =>
        new(s, true, s.Reals.Select(r => new RealPlan(r.Settings(), r.Line, true, false, false, false, [])).ToArray(),
            [], true, true, []);

    private static ServicePlan Diff(CurrentService old, ServiceConfig s)
    {
        var reals = new List<RealPlan>();
        bool setChanged = old.Reals.Count != s.Reals.Count;
        for (int i = 0; i < s.Reals.Count; i++)
        {
            var r = s.Reals[i];
            var def = r.Settings();
            var name = Format.Endpoint(r.Address, r.Port);
            int at = IndexOf(old.Reals, r);
            if (at < 0)
            {
                reals.Add(new RealPlan(def, r.Line, true, false, false, false, [$"real {name} added"]));
                setChanged = true;
                continue;
            }
            if (at != i) setChanged = true;
            var o = old.Reals[at];
            var what = new List<string>();
            bool weight = o.ConfiguredWeight != r.Weight;
            if (weight) what.Add($"real {name} weight {o.ConfiguredWeight} -> {r.Weight}");
            bool thresholds = o.UpperThreshold != r.UpperThreshold || o.LowerThreshold != r.LowerThreshold;
            if (thresholds) what.Add($"real {name} thresholds {o.UpperThreshold}/{o.LowerThreshold} -> {r.UpperThreshold}/{r.LowerThreshold}");
            bool tunnel = o.Encap != def.Encap || o.GuePort != def.GuePort || o.GueChecksum != def.GueChecksum;
            if (tunnel) what.Add($"real {name} encapsulation -> {(def.Encap == EncapKind.Gue ? "gue" : "ipip")}" + (def.Encap == EncapKind.Gue ? $" port {def.GuePort}" : ""));
            reals.Add(new RealPlan(def, r.Line, false, weight, thresholds, tunnel, what));
        }
        var gone = old.Reals.Where(o => IndexOf(s.Reals, o.Address, o.Port) < 0).Select(o => (o.Address, o.Port)).ToArray();

        var changes = new List<string>();
        var flags = s.SchedulerFlags.ToArray();
        bool sched = s.Scheduler != old.Scheduler || !flags.SequenceEqual(old.Flags) || s.MhTableSize != old.MhTableSize;
        if (sched)
            changes.Add($"scheduler {ServiceEntry.Describe(old.Scheduler, old.Flags)} -> {ServiceEntry.Describe(s.Scheduler, flags)}" +
                        (s.MhTableSize != old.MhTableSize ? $" mh_table_size {old.MhTableSize} -> {s.MhTableSize}" : ""));
        if (old.PersistenceSeconds != s.PersistenceSeconds) changes.Add($"persistence {old.PersistenceSeconds} -> {s.PersistenceSeconds}");
        if (old.PersistencePrefix != s.PersistencePrefix) changes.Add($"persistence_netmask /{old.PersistencePrefix} -> /{s.PersistencePrefix}");
        return new ServicePlan(s, false, reals, gone, setChanged, sched, changes);
    }

    private static int IndexOf(IReadOnlyList<CurrentReal> reals, RealConfig r)
    {
        for (int i = 0; i < reals.Count; i++) if (reals[i].Address == r.Address && reals[i].Port == r.Port) return i;
        return -1;
    }

    private static int IndexOf(IReadOnlyList<RealConfig> reals, TunLB.Core.Flows.IpAddress a, ushort port)
    {
        for (int i = 0; i < reals.Count; i++) if (reals[i].Address == a && reals[i].Port == port) return i;
        return -1;
    }
}
