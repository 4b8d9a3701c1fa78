using TunLB.Core.DataPath;
using TunLB.Core.Flows;
using TunLB.Core.Model;

namespace TunLB.Core.Tests;

public sealed class LearnedPathMtusTests
{
    private static Destination Dest(int mtu) => new(1, IpAddress.Parse("192.0.2.11"), 80, 1) { Mtu = mtu };

    [Fact]
    public void LearnedMtu_LowersAtOnce_AndExpiresBackToTheRouteMtu()
    {
        var l = new LearnedPathMtus(600_000);
        var d = Dest(1500);
        Assert.Equal(1500, l.Learn(d, 1400, 1_000));
        Assert.Equal(1400, d.Mtu);
        Assert.Null(l.Learn(d, 1450, 2_000));          // never raised by a report
        Assert.Equal(1400, d.Mtu);
        Assert.Equal(1400, l.Learn(d, 1300, 3_000));   // lower again: the clock restarts
        l.Expire(3_000 + 599_999);
        Assert.Equal(1300, d.Mtu);
        var seen = new List<(int, int)>();
        l.Expire(3_000 + 600_000, (_, learned, back) => seen.Add((learned, back)));
        Assert.Equal(1500, d.Mtu);                      // back to the MTU before the first report
        Assert.Equal([(1300, 1500)], seen);
        Assert.Equal(0, l.Count);
    }

    [Fact]
    public void UnknownMtu_IsLearned_AndExpiresBackToUnknown()
    {
        var l = new LearnedPathMtus(10_000);
        var d = Dest(0);
        Assert.Equal(0, l.Learn(d, 1400, 0));
        l.Expire(10_000);
        Assert.Equal(0, d.Mtu);
    }

    [Fact]
    public void MtuChangedByAReload_IsLeftAlone()
    {
        var l = new LearnedPathMtus(10_000);
        var d = Dest(1500);
        l.Learn(d, 1400, 0);
        d.Mtu = 9000;                                  // a reload set the configured MTU
        l.Expire(20_000);
        Assert.Equal(9000, d.Mtu);
        Assert.Equal(0, l.Count);
    }

    [Fact]
    public void ZeroExpiry_KeepsLearnedMtusForEver()
    {
        var l = new LearnedPathMtus(0);
        var d = Dest(1500);
        l.Learn(d, 1400, 0);
        l.Expire(long.MaxValue / 2);
        Assert.Equal(1400, d.Mtu);
    }
}
