using TunLB.Core.Packets;
using TunLB.Director.Api;
using static TunLB.Director.Tests.Fixtures;

namespace TunLB.Director.Tests.Api;

/// <summary>The SYN flood keys reach the engines, and the defence's counters reach GET /api/v1/stats and /metrics.</summary>
public sealed class SynFloodStatsTests
{
    [Fact]
    public void Counters_show_the_defence_engaged()
    {
        var toml = Basic.Replace("conn_max = 1000", "conn_max = 1000\nsyn_flood_rate = 5\nsyn_flood_mode = \"both\"\nconn_half_open_fill = 50");
        var state = NewState(toml);
        for (ushort p = 1; p <= 20; p++) Assert.Equal(DropReason.None, Send(state, Syn(p)).Verdict);
        Assert.Equal(DropReason.None, Send(state, Ack(20)).Verdict);        // follows its stateless SYN

        var f = ApiOf(state).Stats().SynFlood!;
        Assert.Equal(1, f.DefenceActive);
        Assert.Equal(1, f.Engagements);
        Assert.Equal(15, f.StatelessScheduled);                            // SYNs 6..20
        Assert.Equal(1, f.StatelessAdopted);
        Assert.Equal(5, f.HalfOpen);
        Assert.Equal(500, state.Engine.Connections.HalfOpenEvictionThreshold);

        var text = Metrics.Render(state);
        MetricsFormat.Check(text);
        Assert.Contains("tunlb_syn_flood_defence_active 1\n", text);
        Assert.Contains("tunlb_syn_flood_stateless_scheduled_total 15\n", text);
        Assert.Contains("tunlb_connection_table_half_open_entries 5\n", text);
    }

    [Fact]
    public void Defaults_engage_at_100000_per_second_with_short_SYN_RECV_and_evict_half_open_from_90_percent()
    {
        var state = NewState();
        var o = state.Engine.SynFlood.Options;
        Assert.Equal(100_000, o.RatePerSecond);
        Assert.Equal(TunLB.Core.Connections.SynFloodMode.ShortSynRecv, o.Mode);
        Assert.Equal(5000, o.ShortSynRecvMs);
        Assert.Equal(900, state.Engine.Connections.HalfOpenEvictionThreshold);
    }
}
