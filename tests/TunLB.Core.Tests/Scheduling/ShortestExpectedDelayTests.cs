using static TunLB.Core.Tests.Scheduling.SchedTestUtil;

namespace TunLB.Core.Tests.Scheduling;

/// <summary>sed and nq as IPVS computes them (ip_vs_sed.c, ip_vs_nq.c): overhead = active + 1, divided by weight.</summary>
public class ShortestExpectedDelayTests
{
    private static readonly TunLB.Core.Flows.FlowKey F = Flow(0xC6336401);

    [Fact]
    public void Sed_minimises_active_plus_one_over_weight_and_ignores_inactive()
    {
        var d = Dests(1, 2);
        var s = Updated(Create("sed"), d);
        Assert.Equal("sed", s.Name);
        // Both idle: 1/1 against 1/2, the heavier server wins (wlc would tie at 0 and take the first).
        Assert.Same(d[1], s.Schedule(F, d));
        Connect(d[1]);                          // 1/1 vs 2/2: a tie, the first wins
        Assert.Same(d[0], s.Schedule(F, d));
        Connect(d[0], 0, 1000);                 // inactive connections do not count
        Assert.Same(d[0], s.Schedule(F, d));
        Connect(d[0]);                          // 2/1 vs 2/2
        Assert.Same(d[1], s.Schedule(F, d));
    }

    [Fact]
    public void Sed_simulation_shares_by_weight()
    {
        var d = Dests(1, 3);
        var s = Updated(Create("sed"), d);
        for (int i = 0; i < 400; i++) Connect(s.Schedule(F, d)!);
        Assert.Equal(100, d[0].ActiveConnections);
        Assert.Equal(300, d[1].ActiveConnections);
    }

    [Fact]
    public void Nq_takes_an_idle_server_first_then_behaves_as_sed()
    {
        var d = Dests(1, 10, 1);
        var s = Updated(Create("nq"), d);
        Assert.Equal("nq", s.Name);
        Assert.Same(d[0], s.Schedule(F, d));    // idle: taken at once although d[1] weighs more
        Connect(d[0]);
        Assert.Same(d[1], s.Schedule(F, d));    // the next idle one
        Connect(d[1]);
        Assert.Same(d[2], s.Schedule(F, d));
        Connect(d[2]);
        // Nobody idle: sed, 2/1, 2/10, 2/1.
        Assert.Same(d[1], s.Schedule(F, d));
        var sed = Updated(Create("sed"), d);
        Assert.Same(sed.Schedule(F, d), s.Schedule(F, d));
    }

    [Fact]
    public void Both_skip_zero_weight_and_unavailable()
    {
        var d = Dests(0, 1, 1);
        d[1].Alive = false;
        Assert.Same(d[2], Updated(Create("sed"), d).Schedule(F, d));
        Assert.Same(d[2], Updated(Create("nq"), d).Schedule(F, d));
        d[2].Alive = false;
        Assert.Null(Updated(Create("nq"), d).Schedule(F, d));
    }
}
