using TunLB.Director.Management;

namespace TunLB.Director.Tests.Management;

public sealed class HistoryTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void SamplesAreDeltasPerSecondAfterTheFirstCall()
    {
        var h = new History(5);
        h.Add(T0, 0, conns: 10, packets: 100, bytes: 1000, drops: 1, tableEntries: 3);
        Assert.Empty(h.Samples());
        h.Add(T0.AddSeconds(2), 2, conns: 14, packets: 300, bytes: 5000, drops: 5, tableEntries: 7);
        var s = Assert.Single(h.Samples());
        Assert.Equal(2, s.Cps);
        Assert.Equal(100, s.InPps);
        Assert.Equal(2000, s.InBps);
        Assert.Equal(2, s.DropsPerSecond);
        Assert.Equal(7, s.Connections);
        // Zeroed counters (ipvsadm -Z): the new value is the delta.
        h.Add(T0.AddSeconds(4), 2, conns: 2, packets: 10, bytes: 10, drops: 0, tableEntries: 1);
        Assert.Equal(5, h.Samples()[^1].InPps);
    }

    [Fact]
    public void KeepsOnlyTheLastCapacitySamplesOldestFirst()
    {
        var h = new History(3);
        h.Add(T0, 0, 0, 0, 0, 0, 0);
        for (int i = 1; i <= 6; i++) h.Add(T0.AddSeconds(2 * i), 2, 0, 2 * i, 0, 0, i);
        var s = h.Samples();
        Assert.Equal([4, 5, 6], s.Select(x => x.Connections));
        Assert.Equal([T0.AddSeconds(8), T0.AddSeconds(10), T0.AddSeconds(12)], s.Select(x => x.Time));
        Assert.Equal(600, History.DefaultCapacity * RateEstimator.Interval.TotalSeconds); // 10 minutes at the estimator tick
    }
}
