using System.Globalization;
using System.Text.RegularExpressions;

namespace TunLB.Lab;

/// <summary>
/// `ip -ts monitor route` in one namespace: when the kernel's route to a prefix changed, to the microsecond, whatever
/// the machine's load (polling `ip route` costs a process start per look, hundreds of ms on a busy 2-core machine).
/// </summary>
public sealed partial class RouteMonitor : IDisposable
{
    private readonly BackgroundProcess _p;
    private readonly string _prefix;
    private const string ProbeRoute = "198.19.255.254/32", ProbeTable = "250";

    private RouteMonitor(BackgroundProcess p, string prefix) { _p = p; _prefix = prefix; }

    public static RouteMonitor Start(Topology t, string role, string prefix)
    {
        var p = t.Start(role, "ip-monitor-" + role, "ip", "-ts", "monitor", "route");
        // Subscribed once it reports a change: add and delete a blackhole route to a benchmark-range address no lab uses,
        // in a table no routing daemon reads (a process start can take longer than any fixed pause on a loaded machine).
        var sw = System.Diagnostics.Stopwatch.StartNew();
        bool seen = false;
        while (!seen && sw.ElapsedMilliseconds < 30_000 && !p.HasExited)
        {
            t.Try(role, 10_000, "ip", "route", "del", "blackhole", ProbeRoute, "table", ProbeTable);
            t.Try(role, 10_000, "ip", "route", "add", "blackhole", ProbeRoute, "table", ProbeTable);
            seen = p.WaitForOutput(ProbeRoute.Split('/')[0], 500);
        }
        t.Try(role, 10_000, "ip", "route", "del", "blackhole", ProbeRoute, "table", ProbeTable);
        if (!seen) { p.Stop(2, 1000); throw new InvalidOperationException($"ip monitor in {role} did not start:\n{p.Output}"); }
        return new RouteMonitor(p, prefix);
    }

    /// <summary>One change of the route: when, whether it was a deletion, and the next hops it has after the change.</summary>
    public sealed record Change(DateTime At, bool Deleted, IReadOnlyList<string> Nexthops);

    /// <summary>The changes of the route to the prefix seen so far, in order.</summary>
    public IReadOnlyList<Change> Changes()
    {
        var list = new List<Change>();
        foreach (Match m in Event().Matches(_p.Output))
        {
            var body = m.Groups["body"].Value;
            bool deleted = body.StartsWith("Deleted ", StringComparison.Ordinal);
            var dst = (deleted ? body["Deleted ".Length..] : body).Split(' ', 2)[0];
            if (dst != _prefix && dst + "/32" != _prefix && dst != _prefix + "/32") continue;
            var at = DateTime.ParseExact(m.Groups["ts"].Value, "yyyy-MM-dd'T'HH:mm:ss.ffffff", CultureInfo.InvariantCulture, DateTimeStyles.AssumeLocal);
            list.Add(new Change(at, deleted, deleted ? [] : SeedProbe.NexthopsOf(body)));
        }
        return list;
    }

    /// <summary>Milliseconds from <paramref name="since"/> to the first change after it that leaves exactly
    /// <paramref name="nexthops"/>; -1 if none was seen within <paramref name="waitMs"/>.</summary>
    public long MsUntil(DateTime since, IReadOnlyList<string> nexthops, int waitMs = 5_000) =>
        First(c => c.At >= since && !c.Deleted && c.Nexthops.SequenceEqual(nexthops), since, waitMs);

    /// <summary>Milliseconds from <paramref name="since"/> to the first deletion of the route after it; -1 if none was
    /// seen within <paramref name="waitMs"/>.</summary>
    public long MsUntilDeleted(DateTime since, int waitMs = 5_000) => First(c => c.At >= since && c.Deleted, since, waitMs);

    // The monitor's lines reach us through a pipe, after the kernel made the change: a caller that has just seen the
    // change itself (by `ip route`) may be ahead of them, so wait a little for the line instead of reading once.
    private long First(Func<Change, bool> match, DateTime since, int waitMs)
    {
        var sw = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            foreach (var c in Changes())
                if (match(c)) return (long)(c.At - since).TotalMilliseconds;
            if (sw.ElapsedMilliseconds >= waitMs || _p.HasExited) return -1;
            Thread.Sleep(20);
        }
    }

    public void Dispose() => _p.Stop(2, 1000);

    // "[2026-12-03T11:47:24.245042] 203.0.113.10 proto bird metric 32 \n\tnexthop via ... \n\tnexthop via ..."
    [GeneratedRegex(@"^\[(?<ts>[^\]]+)\] (?<body>[^\n]*(?:\n[ \t][^\n]*)*)", RegexOptions.Multiline)]
    private static partial Regex Event();
}
