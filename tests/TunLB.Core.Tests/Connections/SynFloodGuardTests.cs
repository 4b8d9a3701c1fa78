using TunLB.Core.Connections;

namespace TunLB.Core.Tests.Connections;

public class SynFloodGuardTests
{
    [Fact]
    public void Engages_above_the_rate_within_a_second_and_disengages_after_a_quiet_second()
    {
        var g = new SynFloodGuard(new SynFloodOptions { RatePerSecond = 100 });
        for (int i = 0; i < 100; i++) Assert.False(g.OnNewConnection(10 + i));
        Assert.True(g.OnNewConnection(500));                     // the 101st in this second
        Assert.Equal(1, g.Engagements);
        for (int i = 0; i < 150; i++) Assert.True(g.OnNewConnection(1000 + i)); // next window: still above
        Assert.True(g.Active);
        g.Tick(2100);                                            // that window held 150 > 100: stays engaged
        Assert.True(g.Active);
        Assert.True(g.OnNewConnection(2200));
        g.Tick(3200);                                            // 1 in the last window
        Assert.False(g.Active);
        Assert.Equal(1, g.Engagements);
        Assert.True(g.ActiveWithin(3500, 1000));
        Assert.False(g.ActiveWithin(5000, 1000));
    }

    [Fact]
    public void A_long_silence_ends_the_defence()
    {
        var g = new SynFloodGuard(new SynFloodOptions { RatePerSecond = 10 });
        for (int i = 0; i < 20; i++) g.OnNewConnection(0);
        Assert.True(g.Active);
        Assert.False(g.OnNewConnection(60_000));                 // the window before was long ago
    }

    [Fact]
    public void Rate_zero_never_engages()
    {
        var g = new SynFloodGuard(SynFloodOptions.Off);
        for (int i = 0; i < 1_000_000; i++) Assert.False(g.OnNewConnection(i / 1000));
        Assert.Equal(0, g.Engagements);
    }
}
