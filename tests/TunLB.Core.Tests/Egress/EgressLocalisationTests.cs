using TunLB.Core.Egress;
using static TunLB.Core.Tests.Egress.EgressPackets;

namespace TunLB.Core.Tests.Egress;

/// <summary>The localisation rule: the filter lies between the last router that answered the VIP and the blocking hop.</summary>
public class EgressLocalisationTests
{
    private static EgressAnswer At(string src, int ttl, string from, byte type = 11, byte code = 0) => Answer(src, ttl, 0, from, type, code);

    [Fact]
    public void A_router_that_answers_vip_probes_but_forwards_nothing_is_named_with_the_next_hop()
    {
        // Hop 1 answers both series (its own TTL-expired answers), hop 2 only the control series: hop 1 may drop what it
        // forwards (forward chain) or hop 2 what it receives.
        var answers = new[] { At(Vip, 1, "192.0.2.129"), At(RealServer, 1, "192.0.2.129"), At(RealServer, 2, "198.18.10.2"),
            At(RealServer, 3, Target, 3, 3) };
        var r = EgressVerdict.Decide(A(Vip), A(RealServer), A(Target), answers);
        Assert.Equal(EgressVerdictKind.Blocked, r.Kind);
        Assert.Equal(2, r.BlockingHop);
        Assert.Equal(2, r.Candidates.Count);
        Assert.Equal((1, IP("192.0.2.129"), EgressFilterPlace.ForwardPath), (r.Candidates[0].Hop, r.Candidates[0].Router, r.Candidates[0].Place));
        Assert.Equal((2, IP("198.18.10.2"), EgressFilterPlace.Input), (r.Candidates[1].Hop, r.Candidates[1].Router, r.Candidates[1].Place));
        Assert.Equal("the filter is at or after hop 1 (192.0.2.129, the last router that answered VIP-sourced probes) and at or before hop 2 (198.18.10.2)",
            EgressLocalisation.Range(r));
    }

    [Fact]
    public void No_vip_answer_names_the_real_server_and_the_first_router()
    {
        var r = EgressVerdict.Decide(A(Vip), A(RealServer), A(Target), [At(RealServer, 1, "192.0.2.129"), At(RealServer, 2, Target, 3, 3)]);
        Assert.Equal([EgressFilterPlace.RealServer, EgressFilterPlace.Input], r.Candidates.Select(c => c.Place));
        Assert.Contains("on the real server", EgressLocalisation.Range(r));
    }

    [Fact]
    public void Silent_hops_in_between_are_candidates_too()
    {
        var r = EgressVerdict.Decide(A(Vip), A(RealServer), A(Target),
            [At(Vip, 1, "192.0.2.129"), At(RealServer, 1, "192.0.2.129"), At(RealServer, 4, "198.18.1.1"), At(RealServer, 5, Target, 3, 3)]);
        Assert.Equal(4, r.BlockingHop);
        Assert.Equal([(1, EgressFilterPlace.ForwardPath), (2, EgressFilterPlace.SilentHop), (3, EgressFilterPlace.SilentHop), (4, EgressFilterPlace.Input)],
            r.Candidates.Select(c => (c.Hop, c.Place)));
    }

    [Fact]
    public void Allowed_and_inconclusive_have_no_candidates()
    {
        var r = EgressVerdict.Decide(A(Vip), A(RealServer), A(Target), [At(Vip, 2, Target, 3, 3)]);
        Assert.Equal(EgressVerdictKind.Allowed, r.Kind);
        Assert.Empty(r.Candidates);
        Assert.Equal("", EgressLocalisation.Range(r));
    }
}
