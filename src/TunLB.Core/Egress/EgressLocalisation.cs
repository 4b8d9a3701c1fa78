using TunLB.Core.Flows;

namespace TunLB.Core.Egress;

/// <summary>Where a filter that drops VIP-sourced packets can sit, relative to the hop that names it.</summary>
public enum EgressFilterPlace
{
    /// <summary>The real server itself (output firewall, policy routing) or the way back of ICMP to the VIP.</summary>
    RealServer,
    /// <summary>A router that answered VIP probes expiring at it, and drops those it forwards (forward chain, egress ACL).</summary>
    ForwardPath,
    /// <summary>A hop that answered neither series (never sends ICMP): it may filter too.</summary>
    SilentHop,
    /// <summary>The hop that answered only the control series: drops VIP-sourced packets it receives (uRPF, ingress ACL).</summary>
    Input,
}

/// <summary>One place the filter may be: hop (0 = the real server), router (default when unknown) and how it would filter.</summary>
public sealed record EgressFilterCandidate(int Hop, IpAddress Router, EgressFilterPlace Place)
{
    public string Describe() => Place switch
    {
        EgressFilterPlace.RealServer => "the real server itself (an output firewall rule or policy route for the VIP), or ICMP to the VIP filtered on its way back to the director",
        EgressFilterPlace.ForwardPath => "if it filters what it forwards: it answered VIP-sourced probes that expired there, so it received them",
        EgressFilterPlace.SilentHop => "answered neither series (sends no ICMP): it may be the one that filters",
        _ => "if it filters what it receives: it answered only probes from the real server's own address",
    };
}

/// <summary>
/// The localisation rule: the block is reported at hop k (the first hop above the last VIP answer L that answered the
/// control series), but a router that answers expiring probes itself and filters only forwarded packets (the
/// forward chain, an egress ACL) shows up as the block at the <em>next</em> hop. So the filter is at or after hop L
/// and at or before hop k, and both are named. With no VIP answer at all (L = 0), the other candidate is the real
/// server itself (or the way back to the director).
/// </summary>
public static class EgressLocalisation
{
    public static IReadOnlyList<EgressFilterCandidate> Candidates(int lastVipHop, IpAddress lastVipRouter, int blockingHop, IpAddress blockingRouter)
    {
        var list = new List<EgressFilterCandidate>();
        list.Add(lastVipHop == 0
            ? new EgressFilterCandidate(0, default, EgressFilterPlace.RealServer)
            : new EgressFilterCandidate(lastVipHop, lastVipRouter, EgressFilterPlace.ForwardPath));
        for (int h = lastVipHop + 1; h < blockingHop; h++) list.Add(new EgressFilterCandidate(h, default, EgressFilterPlace.SilentHop));
        list.Add(new EgressFilterCandidate(blockingHop, blockingRouter, EgressFilterPlace.Input));
        return list;
    }

    /// <summary>One line: "at or after hop 1 (192.0.2.129) and at or before hop 2 (198.18.10.2)".</summary>
    public static string Range(EgressResult r)
    {
        if (r.Kind != EgressVerdictKind.Blocked) return "";
        string first = r.LastVipHop == 0 ? "on the real server" : $"at hop {r.LastVipHop} ({EgressVerdict.Fmt(r.LastVipRouter)})";
        return r.LastVipHop == 0
            ? $"the filter is at hop {r.BlockingHop} ({EgressVerdict.Fmt(r.BlockingRouter)}) at the latest; nothing VIP-sourced was answered, so it may also be {first}"
            : $"the filter is at or after hop {r.LastVipHop} ({EgressVerdict.Fmt(r.LastVipRouter)}, the last router that answered VIP-sourced probes) and at or before hop {r.BlockingHop} ({EgressVerdict.Fmt(r.BlockingRouter)})";
    }
}
