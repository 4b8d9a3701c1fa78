using TunLB.Core.Flows;
using TunLB.Director.Management;

namespace TunLB.Director.Announce;

/// <summary>
/// Which VIPs this director may announce, from the published view, the workers' heartbeat, the drain flag and the
/// clock: pure, no I/O, so every rule is tested without a kernel. A VIP is announced while
/// <list type="bullet">
/// <item>the director is neither drained nor stopping, and with <c>[sync]</c> it has its peers' tables (or gave up waiting);</item>
/// <item>the VIP is routed into the capture device (a VIP the host holds, or whose route failed, is not captured);</item>
/// <item>the data plane makes progress: the slowest worker's loop count (<c>DirectorRuntime.Heartbeat</c>, at least
/// one loop per 100 ms while a worker runs) moved within <see cref="StallAfterMs"/>;</item>
/// <item>at least one service of the VIP can serve: it has quorum and a real server (not the sorry server) that is
/// configured, not failed and has a weight above 0.</item>
/// </list>
/// One serving service is enough: withdrawing a VIP because one of its ports has no healthy real server would turn
/// that port's outage into an outage of every port, on every director at once (they all see the same reals).
/// </summary>
public sealed class AnnouncePolicy
{
    /// <summary>The heartbeat may stand still this long before the data plane counts as stalled (10 missed loops).</summary>
    public const long StallAfterMs = 1000;

    private long _lastBeat = -1;
    private long _lastBeatAtMs;

    /// <summary>Decides for one moment. Call it regularly (every 100 ms): it remembers when the heartbeat last moved.</summary>
    /// <param name="captured">The VIPs routed into the capture device now; null = all of them (tests).</param>
    /// <param name="synced">False while connection sync waits for the peers' tables (docs/connection-sync.md).</param>
    public AnnounceDecision Decide(DirectorView view, long heartbeat, bool drained, bool stopping, long nowMs,
        IReadOnlyCollection<IpAddress>? captured = null, bool synced = true)
    {
        ArgumentNullException.ThrowIfNull(view);
        if (heartbeat != _lastBeat || _lastBeat < 0)
        {
            _lastBeat = heartbeat;
            _lastBeatAtMs = nowMs;
        }
        string? all = stopping ? "stopping"
            : drained ? "director drained"
            : !synced ? "waiting for the connection tables of the sync peers"
            // A fixed text: the announcer logs each change of a reason, so no counting milliseconds in it.
            : nowMs - _lastBeatAtMs > StallAfterMs ? $"data plane stalled (no worker progress for more than {StallAfterMs} ms)"
            : null;

        var announce = new List<IpAddress>();
        var withheld = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var vip in view.Vips)
        {
            string? why = all ?? (captured is not null && !captured.Contains(vip) ? "not routed into the capture device" : Problem(view, vip));
            if (why is null) announce.Add(vip);
            else withheld[vip.ToString()] = why;
        }
        return new AnnounceDecision(announce, withheld);
    }

    /// <summary>Null when some service of <paramref name="vip"/> can serve, else why none can.</summary>
    private static string? Problem(DirectorView view, IpAddress vip)
    {
        var problems = new List<string>();
        foreach (var s in view.Services)
        {
            if (s.Key.Vip != vip) continue;
            string? p = Problem(s);
            if (p is null) return null;
            problems.Add($"{s}: {p}");
        }
        return problems.Count == 0 ? "no service" : string.Join("; ", problems);
    }

    /// <summary>Null when the service can serve, else why not.</summary>
    public static string? Problem(ServiceView s)
    {
        if (!s.QuorumUp) return "quorum lost";
        foreach (var r in s.Reals)
            if (!r.IsSorry && r.Dest.Usable && r.Dest.Weight > 0) return null;
        return s.Reals.Count == 0 ? "no real server" : "no healthy real server with weight > 0";
    }
}

/// <summary>The VIPs to announce, and for each other VIP why it is withheld.</summary>
public sealed record AnnounceDecision(IReadOnlyList<IpAddress> Announce, IReadOnlyDictionary<string, string> Withheld);
