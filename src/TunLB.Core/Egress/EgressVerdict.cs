using TunLB.Core.Flows;

namespace TunLB.Core.Egress;

public enum EgressVerdictKind
{
    /// <summary>The target answered VIP-sourced probes: the path lets VIP-sourced packets out.</summary>
    Allowed = 0,
    /// <summary>The control series reached the target, the VIP series stopped at some hop.</summary>
    Blocked = 1,
    /// <summary>The control series did not reach the target either, so nothing can be concluded.</summary>
    Inconclusive = 2,
}

/// <summary>What answered at one hop, per series (first seen first).</summary>
public sealed record EgressHop(int Ttl, IReadOnlyList<IpAddress> VipFrom, IReadOnlyList<IpAddress> ControlFrom);

/// <summary>
/// The outcome of an egress check. <see cref="Hops"/>: for Allowed, the hop at which the target answered the VIP series.
/// <see cref="BlockingHop"/>/<see cref="BlockingRouter"/>: for Blocked, the first hop beyond the last VIP answer at which
/// the control series got an answer, and who answered it. <see cref="LastVipHop"/> is 0 when no VIP probe was answered.
/// </summary>
public sealed record EgressResult(
    EgressVerdictKind Kind,
    string Reason,
    int Hops,
    int BlockingHop,
    IpAddress BlockingRouter,
    int LastVipHop,
    IpAddress LastVipRouter,
    int ControlTargetHop,
    IReadOnlyList<EgressHop> Table)
{
    public int ExitCode => (int)Kind;

    /// <summary>For Blocked: where the filter can be, nearest first (see <see cref="EgressLocalisation"/>).</summary>
    public IReadOnlyList<EgressFilterCandidate> Candidates { get; init; } = [];
}

/// <summary>The verdict function of the egress check. Pure: answers in, verdict out.</summary>
public static class EgressVerdict
{
    /// <summary>
    /// Decides from the answers to both series. An answer belongs to the VIP series when its probe source is
    /// <paramref name="vip"/>, to the control series when it is <paramref name="control"/>; others are ignored.
    /// <list type="number">
    /// <item>Any VIP probe answered by the target itself → Allowed (hops = smallest TTL that reached it).</item>
    /// <item>No control probe answered by the target → Inconclusive (silent target, or the path fails for everyone).</item>
    /// <item>Otherwise Blocked at hop k: L = the highest hop that answered a VIP probe (0 if none), so VIP-sourced
    /// packets are known to get that far; k = the lowest hop above L that answered a control probe. Hop k's router
    /// (from the control series) answered only the real server's own address. Hops between L and k answered neither
    /// series (routers that never send ICMP), so the filter sits somewhere after hop L, at hop k at the latest.</item>
    /// </list>
    /// Using the last VIP answer rather than the first VIP gap keeps a VIP answer lost to ICMP rate limiting at one
    /// hop from being mistaken for the block when a later hop answered VIP probes.
    /// </summary>
    public static EgressResult Decide(uint vip, uint control, uint target, IEnumerable<EgressAnswer> answers) =>
        Decide(IpAddress.FromV4(vip), IpAddress.FromV4(control), IpAddress.FromV4(target), answers);

    /// <summary>The same decision for either family (all three addresses of one family).</summary>
    public static EgressResult Decide(IpAddress vip, IpAddress control, IpAddress target, IEnumerable<EgressAnswer> answers)
    {
        var vipAnswers = new List<EgressAnswer>();
        var ctlAnswers = new List<EgressAnswer>();
        foreach (var a in answers)
        {
            if (a.Target != target) continue;
            if (a.ProbeSource == vip) vipAnswers.Add(a);
            else if (a.ProbeSource == control) ctlAnswers.Add(a);
        }
        vipAnswers.Sort(Order);
        ctlAnswers.Sort(Order);
        var table = BuildTable(vipAnswers, ctlAnswers);

        int vipTarget = MinTtl(vipAnswers, a => a.From == target);
        int ctlTarget = MinTtl(ctlAnswers, a => a.From == target);
        int lastVip = 0; IpAddress lastVipRouter = default;
        foreach (var a in vipAnswers)
            if (a.Ttl > lastVip || (a.Ttl == lastVip && lastVipRouter == default)) { lastVip = a.Ttl; lastVipRouter = a.From; }

        if (vipTarget > 0)
            return new EgressResult(EgressVerdictKind.Allowed,
                $"the target answered VIP-sourced probes at hop {vipTarget}", vipTarget, 0, default, lastVip, lastVipRouter, ctlTarget, table);

        if (ctlTarget == 0)
        {
            string why;
            var stop = ctlAnswers.FindLast(a => a.IsUnreachable);
            if (stop.Ttl != 0)
                why = $"the control series stopped at hop {stop.Ttl} with {stop.Describe()} from {Fmt(stop.From)}";
            else if (ctlAnswers.Count == 0)
                why = "no control probe was answered at all (ICMP filtered on the way back, or no route)";
            else
                why = $"the target never answered the control series (last answer from hop {ctlAnswers[^1].Ttl}, {Fmt(ctlAnswers[^1].From)})";
            return new EgressResult(EgressVerdictKind.Inconclusive, why, 0, 0, default, lastVip, lastVipRouter, 0, table);
        }

        int k = MinTtl(ctlAnswers, a => a.Ttl > lastVip);
        if (k == 0)
            return new EgressResult(EgressVerdictKind.Inconclusive,
                $"VIP probes were answered up to hop {lastVip}, beyond the target's hop {ctlTarget} in the control series, but never by the target (the two series took different paths?)",
                0, 0, default, lastVip, lastVipRouter, ctlTarget, table);
        IpAddress router = ctlAnswers.Find(a => a.Ttl == k).From;
        string reason = lastVip == 0
            ? $"no VIP-sourced probe was answered; hop {k} ({Fmt(router)}) answered the control series"
            : $"VIP-sourced probes were answered up to hop {lastVip} ({Fmt(lastVipRouter)}); hop {k} ({Fmt(router)}) answered the control series only";
        return new EgressResult(EgressVerdictKind.Blocked, reason, 0, k, router, lastVip, lastVipRouter, ctlTarget, table)
        {
            Candidates = EgressLocalisation.Candidates(lastVip, lastVipRouter, k, router),
        };
    }

    private static int Order(EgressAnswer x, EgressAnswer y)
    {
        int c = x.Ttl.CompareTo(y.Ttl);
        if (c != 0) return c;
        c = x.Seq.CompareTo(y.Seq);
        return c != 0 ? c : x.TimeMs.CompareTo(y.TimeMs);
    }

    private static int MinTtl(List<EgressAnswer> sorted, Func<EgressAnswer, bool> pred)
    {
        foreach (var a in sorted) if (pred(a)) return a.Ttl;
        return 0;
    }

    private static List<EgressHop> BuildTable(List<EgressAnswer> vip, List<EgressAnswer> ctl)
    {
        int max = 0;
        foreach (var a in vip) max = Math.Max(max, a.Ttl);
        foreach (var a in ctl) max = Math.Max(max, a.Ttl);
        var rows = new List<EgressHop>(max);
        for (int ttl = 1; ttl <= max; ttl++)
            rows.Add(new EgressHop(ttl, Distinct(vip, ttl), Distinct(ctl, ttl)));
        return rows;
    }

    private static List<IpAddress> Distinct(List<EgressAnswer> list, int ttl)
    {
        var r = new List<IpAddress>();
        foreach (var a in list) if (a.Ttl == ttl && !r.Contains(a.From)) r.Add(a.From);
        return r;
    }

    public static string Fmt(uint v4) => $"{v4 >> 24}.{(v4 >> 16) & 0xFF}.{(v4 >> 8) & 0xFF}.{v4 & 0xFF}";

    public static string Fmt(IpAddress a) => a.IsV4 ? Fmt(a.V4) : a.ToString();
}
