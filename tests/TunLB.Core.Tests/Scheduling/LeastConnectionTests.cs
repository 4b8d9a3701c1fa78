using CsCheck;
using TunLB.Core.Model;
using static TunLB.Core.Tests.Scheduling.SchedTestUtil;

namespace TunLB.Core.Tests.Scheduling;

public class LeastConnectionTests
{
    private static readonly TunLB.Core.Flows.FlowKey F = Flow(0xC6336401);

    [Fact]
    public void Lc_picks_least_overhead_and_follows_counters()
    {
        var d = Dests(1, 1, 1);
        var s = Updated(Create("lc"), d);
        Assert.Same(d[0], s.Schedule(F, d)); // all equal: first
        Connect(d[0]);
        Assert.Same(d[1], s.Schedule(F, d));
        Connect(d[1]);
        Assert.Same(d[2], s.Schedule(F, d));
        Connect(d[2]);
        Assert.Same(d[0], s.Schedule(F, d)); // tie again
        // 255 inactive connections still weigh less than one active one ...
        d[1].ActiveConnections = 0; d[1].InactiveConnections = 255;
        Assert.Same(d[1], s.Schedule(F, d));
        // ... but 257 weigh more.
        d[1].InactiveConnections = 257;
        Assert.Same(d[0], s.Schedule(F, d));
    }

    [Fact]
    public void Lc_simulation_keeps_connections_balanced()
    {
        var d = Dests(1, 1, 1, 1, 1);
        var s = Updated(Create("lc"), d);
        for (int i = 0; i < 1000; i++) Connect(s.Schedule(F, d)!);
        Assert.All(d, x => Assert.Equal(200, x.ActiveConnections));
    }

    [Fact]
    public void Lc_ignores_weight_but_skips_zero_and_unavailable()
    {
        var d = Dests(0, 1, 7, 1);
        d[1].UpperThreshold = 2; Connect(d[1], 2);
        var s = Updated(Create("lc"), d);
        Connect(d[2], 5);
        Assert.Same(d[3], s.Schedule(F, d));
        d[3].Alive = false;
        Assert.Same(d[2], s.Schedule(F, d));
    }

    [Fact]
    public void Wlc_minimises_overhead_per_weight()
    {
        var d = Dests(1, 2, 3);
        var s = Updated(Create("wlc"), d);
        Assert.Same(d[0], s.Schedule(F, d)); // 0/1 = 0/2 = 0/3: first
        for (int i = 0; i < 6000; i++) Connect(s.Schedule(F, d)!);
        Assert.Equal(1000, d[0].ActiveConnections);
        Assert.Equal(2000, d[1].ActiveConnections);
        Assert.Equal(3000, d[2].ActiveConnections);
    }

    [Fact]
    public void Wlc_compares_by_cross_multiplication_with_ties_to_first()
    {
        var d = Dests(2, 3);
        var s = Updated(Create("wlc"), d);
        d[0].ActiveConnections = 2; d[1].ActiveConnections = 3; // 512/2 == 768/3
        Assert.Same(d[0], s.Schedule(F, d));
        d[1].InactiveConnections = 0; d[0].InactiveConnections = 1; // 513/2 > 768/3
        Assert.Same(d[1], s.Schedule(F, d));
    }

    [Fact]
    public void Wlc_does_not_overflow_on_huge_counters_and_weights()
    {
        var d = Dests(int.MaxValue, int.MaxValue - 1);
        d[0].ActiveConnections = int.MaxValue; d[0].InactiveConnections = int.MaxValue;
        d[1].ActiveConnections = int.MaxValue; d[1].InactiveConnections = int.MaxValue - 1000;
        var s = Updated(Create("wlc"), d);
        // overhead0/w0 = (2^39-ish)/(2^31-1) vs overhead1/(2^31-2): d0 slightly larger overhead, larger weight.
        var o0 = ((System.Numerics.BigInteger)int.MaxValue << 8) + int.MaxValue;
        var o1 = ((System.Numerics.BigInteger)int.MaxValue << 8) + int.MaxValue - 1000;
        var expected = o0 * (int.MaxValue - 1) > o1 * int.MaxValue ? d[1] : d[0];
        Assert.Same(expected, s.Schedule(F, d));
    }

    [Fact]
    public void Property_lc_and_wlc_agree_with_a_brute_force_model()
    {
        Gen.Select(Gen.Int[0, 5], Gen.Int[0, 3], Gen.Int[0, 600], Gen.Bool).Array[1, 8].Sample(rows =>
        {
            var d = Dests(rows.Length, i => rows[i].Item1);
            for (int i = 0; i < d.Length; i++)
            {
                d[i].ActiveConnections = rows[i].Item2;
                d[i].InactiveConnections = rows[i].Item3;
                d[i].Alive = rows[i].Item4 || i % 2 == 0;
            }
            Destination? lcWant = null, wlcWant = null;
            long lcBest = 0; double wlcBest = 0;
            foreach (var x in d)
            {
                if (!x.IsAvailable) continue;
                long oh = x.ActiveConnections * 256L + x.InactiveConnections;
                if (lcWant is null || oh < lcBest) { lcWant = x; lcBest = oh; }
                double r = (double)oh / x.Weight;
                if (wlcWant is null || r < wlcBest - 1e-12) { wlcWant = x; wlcBest = r; }
            }
            Assert.Same(lcWant, Updated(Create("lc"), d).Schedule(F, d));
            Assert.Same(wlcWant, Updated(Create("wlc"), d).Schedule(F, d));
        }, iter: 500);
    }
}
