using CsCheck;
using TunLB.Core.Model;
using TunLB.Core.Scheduling;
using static TunLB.Core.Tests.Scheduling.SchedTestUtil;

namespace TunLB.Core.Tests.Scheduling;

public class RoundRobinTests
{
    private static readonly TunLB.Core.Flows.FlowKey F = Flow(0xC6336401);

    [Fact]
    public void Cycles_in_array_order()
    {
        var d = Dests(1, 1, 1, 1);
        var s = Updated(Create("rr"), d);
        for (int round = 0; round < 3; round++)
            for (int i = 0; i < d.Length; i++)
                Assert.Same(d[i], s.Schedule(F, d));
    }

    [Fact]
    public void Spread_is_exactly_even_and_ignores_weights()
    {
        var d = Dests(1, 5, 2, 9, 3);
        var s = Updated(Create("rr"), d);
        var counts = Counts(s, d, RandomFlows(5 * 1000), out int nulls);
        Assert.Equal(0, nulls);
        Assert.All(counts, c => Assert.Equal(1000, c));
    }

    [Fact]
    public void Skips_unavailable_destinations()
    {
        var d = Dests(1, 0, 1, 1, 1);
        d[2].Alive = false;
        d[3].UpperThreshold = 1; Connect(d[3], active: 0, inactive: 1); // overloaded
        var s = Updated(Create("rr"), d);
        var counts = Counts(s, d, RandomFlows(600), out int nulls);
        Assert.Equal([300, 0, 0, 0, 300], counts);
        Assert.Equal(0, nulls);

        // A destination that comes back is picked again without any update.
        d[3].InactiveConnections = 0;
        counts = Counts(s, d, RandomFlows(600), out _);
        Assert.Equal([200, 0, 0, 200, 200], counts);
    }

    [Fact]
    public void Nothing_available_gives_null()
    {
        var d = Dests(0, 0, 0);
        var s = Updated(Create("rr"), d);
        Assert.Null(s.Schedule(F, d));
        Assert.Null(s.Schedule(F, []));
    }

    [Fact]
    public void Survives_a_shrinking_array()
    {
        var d = Dests(1, 1, 1, 1, 1);
        var s = Updated(Create("rr"), d);
        for (int i = 0; i < 4; i++) s.Schedule(F, d); // cursor at index 3
        var smaller = d[..2];
        s.Update(smaller);
        Assert.Same(smaller[0], s.Schedule(F, smaller));
        Assert.Same(smaller[1], s.Schedule(F, smaller));
        Assert.Same(smaller[0], s.Schedule(F, smaller));
    }

    [Fact]
    public void Property_each_available_destination_gets_exactly_k_picks_in_k_rounds()
    {
        Gen.Int[0, 3].Array[1, 12].Sample(weights =>
        {
            var d = Dests(weights);
            var s = Updated(Create("rr"), d);
            int available = weights.Count(w => w > 0);
            var counts = Counts(s, d, RandomFlows(available * 7), out int nulls);
            for (int i = 0; i < d.Length; i++)
                Assert.Equal(weights[i] > 0 ? 7 : 0, counts[i]);
            Assert.Equal(0, nulls);
        }, iter: 200);
    }
}
