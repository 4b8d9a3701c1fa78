using CsCheck;
using TunLB.Core.Model;
using static TunLB.Core.Tests.Scheduling.SchedTestUtil;

namespace TunLB.Core.Tests.Scheduling;

public class WeightedRoundRobinTests
{
    private static readonly TunLB.Core.Flows.FlowKey F = Flow(0xC6336401);

    private static string Sequence(Destination[] d, int count)
    {
        var s = Updated(Create("wrr"), d);
        var chars = new char[count];
        for (int i = 0; i < count; i++)
        {
            Destination? x = s.Schedule(F, d);
            chars[i] = x is null ? '-' : (char)('A' + Array.IndexOf(d, x));
        }
        return new string(chars);
    }

    [Fact]
    public void Interleaves_like_ipvs()
    {
        // Levels 4,3,2,1: {A} {A,B} {A,B,C} {A,B,C}
        Assert.Equal("AABABCABC" + "AABABCABC", Sequence(Dests(4, 3, 2), 18));
        // gcd 2: weights 4,2 -> levels 3,1 -> A, AB
        Assert.Equal("AAB" + "AAB", Sequence(Dests(4, 2), 6));
        Assert.Equal("ABCABC", Sequence(Dests(1, 1, 1), 6));
    }

    [Fact]
    public void Zero_weight_and_unavailable_are_skipped()
    {
        Assert.Equal("ACACAC", Sequence(Dests(1, 0, 1), 6));
        var d = Dests(2, 1, 1);
        d[0].Alive = false;
        Assert.Equal("BCBC", Sequence(d, 4));
        Assert.Equal("------", Sequence(Dests(0, 0, 0), 6));
        Assert.Equal("--", Sequence([], 2));
    }

    [Fact]
    public void Overloaded_heavy_destination_does_not_stall_the_others()
    {
        var d = Dests(100, 1, 1);
        d[0].UpperThreshold = 1; Connect(d[0]);
        var s = Updated(Create("wrr"), d);
        var counts = Counts(s, d, RandomFlows(1000), out int nulls);
        Assert.Equal(0, nulls);
        Assert.Equal([0, 500, 500], counts);
        // Back from overload: the full cycle resumes (100:1:1).
        d[0].ActiveConnections = 0;
        s.Update(d);
        counts = Counts(s, d, RandomFlows(102 * 10), out _);
        Assert.Equal([1000, 10, 10], counts);
    }

    [Fact]
    public void Property_counts_per_cycle_equal_weight_over_gcd()
    {
        Gen.Int[0, 12].Array[1, 8].Sample(weights =>
        {
            int gcd = 0;
            foreach (int w in weights) if (w > 0) gcd = Gcd(w, gcd);
            var d = Dests(weights);
            var s = Updated(Create("wrr"), d);
            if (gcd == 0)
            {
                Assert.Null(s.Schedule(F, d));
                return;
            }
            int cycle = weights.Sum(w => w / gcd);
            for (int c = 0; c < 3; c++) // several whole cycles, each exact
            {
                var counts = Counts(s, d, RandomFlows(cycle), out int nulls);
                Assert.Equal(0, nulls);
                for (int i = 0; i < d.Length; i++)
                    Assert.Equal(weights[i] / gcd, counts[i]);
            }
        }, iter: 300);
    }

    private static int Gcd(int a, int b) { while (b != 0) (a, b) = (b, a % b); return a; }
}
