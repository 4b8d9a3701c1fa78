using TunLB.Core.Egress;
using static TunLB.Core.Tests.Egress.EgressPackets;

namespace TunLB.Core.Tests.Egress;

public class EgressVerdictTests
{
    private static readonly string[] Routers = ["192.0.2.129", "198.18.2.1", "198.18.1.1", "198.51.100.1"];

    /// <summary>Answers for one series: routers at hops 1..reach (skipping <paramref name="silent"/>), the target at hop targetHop if reached.</summary>
    private static IEnumerable<EgressAnswer> Series(string source, int reach, int targetHop = 5, int[]? silent = null, int probes = 2)
    {
        for (int ttl = 1; ttl <= Math.Min(reach, targetHop - 1); ttl++)
            if (silent is null || !silent.Contains(ttl))
                for (int s = 0; s < probes; s++) yield return Answer(source, ttl, s, Routers[ttl - 1]);
        if (reach >= targetHop)
            for (int ttl = targetHop; ttl <= targetHop + 2; ttl++)
                for (int s = 0; s < probes; s++) yield return Answer(source, ttl, s, Target, 3, 3);
    }

    private static EgressResult Decide(IEnumerable<EgressAnswer> a) => EgressVerdict.Decide(A(Vip), A(RealServer), A(Target), a);

    [Fact]
    public void Allowed_when_the_target_answers_the_vip_series()
    {
        var r = Decide(Series(Vip, 99).Concat(Series(RealServer, 99)));
        Assert.Equal(EgressVerdictKind.Allowed, r.Kind);
        Assert.Equal(5, r.Hops);
        Assert.Equal(0, r.ExitCode);
        Assert.Equal(7, r.Table.Count);
        Assert.Equal([IP(Routers[0])], r.Table[0].VipFrom);
    }

    [Fact]
    public void Allowed_even_if_the_control_answers_were_lost()
    {
        var r = Decide(Series(Vip, 99));
        Assert.Equal(EgressVerdictKind.Allowed, r.Kind);
    }

    [Fact]
    public void Blocked_at_hop_1_when_no_vip_probe_is_answered()
    {
        var r = Decide(Series(RealServer, 99));
        Assert.Equal(EgressVerdictKind.Blocked, r.Kind);
        Assert.Equal(1, r.BlockingHop);
        Assert.Equal(IP(Routers[0]), r.BlockingRouter);
        Assert.Equal(0, r.LastVipHop);
        Assert.Equal(1, r.ExitCode);
        Assert.Equal(5, r.ControlTargetHop);
    }

    [Fact]
    public void Blocked_at_the_first_hop_that_answers_control_only()
    {
        var r = Decide(Series(Vip, 2).Concat(Series(RealServer, 99)));
        Assert.Equal(EgressVerdictKind.Blocked, r.Kind);
        Assert.Equal(3, r.BlockingHop);
        Assert.Equal(IP(Routers[2]), r.BlockingRouter);
        Assert.Equal(2, r.LastVipHop);
        Assert.Equal(IP(Routers[1]), r.LastVipRouter);
        Assert.Contains("hop 3 (198.18.1.1) answered the control series only", r.Reason);
    }

    [Fact]
    public void A_vip_answer_lost_at_one_hop_does_not_move_the_block_before_a_later_vip_answer()
    {
        // Hop 2 dropped its answers to the VIP (rate limit), hop 3 answered them: the VIP packets passed hop 2.
        var r = Decide(Series(Vip, 3, silent: [2]).Concat(Series(RealServer, 99)));
        Assert.Equal(4, r.BlockingHop);
        Assert.Equal(IP(Routers[3]), r.BlockingRouter);
    }

    [Fact]
    public void Hops_silent_in_both_series_are_skipped()
    {
        // Hop 3 never answers anyone; VIP answers stop after hop 2: the first informative hop above 2 is 4.
        var r = Decide(Series(Vip, 2).Concat(Series(RealServer, 99, silent: [3])));
        Assert.Equal(EgressVerdictKind.Blocked, r.Kind);
        Assert.Equal(4, r.BlockingHop);
        Assert.Equal(IP(Routers[3]), r.BlockingRouter);
    }

    [Fact]
    public void Blocked_at_the_target_when_no_router_answers_control_beyond_the_last_vip_hop()
    {
        var r = Decide(Series(Vip, 2).Concat(Series(RealServer, 99, silent: [3, 4])));
        Assert.Equal(5, r.BlockingHop);
        Assert.Equal(IP(Target), r.BlockingRouter);
    }

    [Fact]
    public void Inconclusive_when_the_target_never_answers()
    {
        var r = Decide(Series(Vip, 4).Concat(Series(RealServer, 4)));
        Assert.Equal(EgressVerdictKind.Inconclusive, r.Kind);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("never answered", r.Reason);
    }

    [Fact]
    public void Inconclusive_when_nothing_answers()
    {
        var r = Decide([]);
        Assert.Equal(EgressVerdictKind.Inconclusive, r.Kind);
        Assert.Contains("no control probe", r.Reason);
    }

    [Fact]
    public void Inconclusive_names_a_router_that_refuses_the_control_series()
    {
        var r = Decide(Series(RealServer, 2).Append(Answer(RealServer, 3, 0, Routers[2], 3, 13)));
        Assert.Equal(EgressVerdictKind.Inconclusive, r.Kind);
        Assert.Contains("hop 3 with admin-prohibited from 198.18.1.1", r.Reason);
    }

    [Fact]
    public void Answers_for_other_sources_or_targets_are_ignored()
    {
        var stray = Series("192.0.2.77", 99).Select(a => a).ToList();
        var otherTarget = Series(Vip, 99).Select(a => { a.Target = IP("198.51.100.99"); return a; });
        var r = Decide(stray.Concat(otherTarget).Concat(Series(RealServer, 99)));
        Assert.Equal(EgressVerdictKind.Blocked, r.Kind);
        Assert.Equal(1, r.BlockingHop);
    }
}
