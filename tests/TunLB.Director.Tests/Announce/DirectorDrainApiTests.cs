using TunLB.Director.Api;
using static TunLB.Director.Tests.Fixtures;

namespace TunLB.Director.Tests.Announce;

/// <summary>GET /api/v1/director and the director drain (POST/DELETE /api/v1/director/drain), plus the adopted counters.</summary>
public sealed class DirectorDrainApiTests
{
    private static readonly string Announcing = Basic.Replace("conn_max = 1000", "conn_max = 1000\nannounce = true\nannounce_table = 120");

    [Fact]
    public void Drain_is_refused_when_the_director_does_not_announce()
    {
        var api = ApiOf(NewState());
        var e = Assert.Throws<ApiException>(() => api.DrainDirector(true));
        Assert.Equal(409, e.Status);
        Assert.Equal("announce", e.Field);
        var st = api.DirectorStatus();
        Assert.False(st.Announce);
        Assert.Null(st.AnnounceTable);
    }

    [Fact]
    public void Drain_and_undrain_set_the_flag_the_announcer_reads()
    {
        var s = NewState(Announcing);
        var api = ApiOf(s);
        Assert.Equal((true, 120, false), (api.DirectorStatus().Announce, api.DirectorStatus().AnnounceTable, api.DirectorStatus().Drained));
        Assert.True(api.DrainDirector(true).Drained);
        Assert.True(s.Announcement.Drained);
        Assert.Contains("tunlb_director_drained 1", Metrics.Render(s));
        Assert.False(api.DrainDirector(false).Drained);
        Assert.False(s.Announcement.Drained);
    }

    [Fact]
    public void Services_show_adopted_flows_in_the_api_and_metrics()
    {
        var s = NewState(Announcing);
        Assert.Equal(TunLB.Core.Packets.DropReason.None, Send(s, Ack(40000)).Verdict);
        Assert.Equal(1, ApiOf(s).ListServices()[0].Adopted);
        Assert.Contains("tunlb_service_adopted_connections_total{vip=\"203.0.113.10\",port=\"80\",proto=\"tcp\"} 1", Metrics.Render(s));
    }
}
