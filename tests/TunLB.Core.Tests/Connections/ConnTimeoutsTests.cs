using TunLB.Core.Connections;

namespace TunLB.Core.Tests.Connections;

public class ConnTimeoutsTests
{
    [Theory]
    [InlineData(ConnState.None, 2)]
    [InlineData(ConnState.Established, 900)]
    [InlineData(ConnState.SynSent, 120)]
    [InlineData(ConnState.SynRecv, 60)]
    [InlineData(ConnState.FinWait, 120)]
    [InlineData(ConnState.TimeWait, 120)]
    [InlineData(ConnState.Close, 10)]
    [InlineData(ConnState.CloseWait, 60)]
    [InlineData(ConnState.LastAck, 30)]
    [InlineData(ConnState.Listen, 120)]
    [InlineData(ConnState.SynAck, 120)]
    [InlineData(ConnState.Udp, 300)]
    public void Defaults_are_ipvs_defaults(ConnState state, int seconds) =>
        Assert.Equal(seconds * 1000L, ConnTimeouts.Default[state]);

    [Fact]
    public void Ipvsadm_set_changes_three_values_and_zero_keeps()
    {
        var t = ConnTimeouts.Default.WithIpvsadmSet(7200, 0, 60);
        Assert.Equal(7_200_000, t[ConnState.Established]);
        Assert.Equal(120_000, t[ConnState.FinWait]);
        Assert.Equal(60_000, t[ConnState.Udp]);
        Assert.Equal(60_000, t[ConnState.SynRecv]);
        // The original is untouched.
        Assert.Equal(900_000, ConnTimeouts.Default[ConnState.Established]);
        Assert.Equal("Timeout (tcp tcpfin udp): 7200 120 60", t.ToString());
    }

    [Fact]
    public void With_sets_one_state_and_rejects_bad_values()
    {
        var t = ConnTimeouts.Default.With(ConnState.TimeWait, 5_000);
        Assert.Equal(5_000, t[ConnState.TimeWait]);
        Assert.Equal(120_000, ConnTimeouts.Default[ConnState.TimeWait]);
        Assert.Throws<ArgumentOutOfRangeException>(() => ConnTimeouts.Default.With(ConnState.Close, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => ConnTimeouts.Default.WithIpvsadmSet(-1, 0, 0));
    }
}
