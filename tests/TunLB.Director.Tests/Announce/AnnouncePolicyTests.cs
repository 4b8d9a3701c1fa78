using TunLB.Control.Api;
using TunLB.Health;
using TunLB.Director.Announce;
using TunLB.Director.Management;
using static TunLB.Director.Tests.Fixtures;

namespace TunLB.Director.Tests.Announce;

/// <summary><see cref="AnnouncePolicy"/> over real published views: health, quorum, weights, drain, stop and the heartbeat.</summary>
public sealed class AnnouncePolicyTests
{
    private const string Vip2 = "203.0.113.20";

    private const string Config = """
        [director]
        conn_max = 1000
        announce = true

        [[service]]
        vip = "203.0.113.10"
        port = 80
        scheduler = "mh"

        [service.check]
        type = "tcp"
        rise = 1
        fall = 1

        [[service.real]]
        address = "192.0.2.11"

        [[service.real]]
        address = "192.0.2.12"

        [[service]]
        vip = "203.0.113.10"
        port = 443
        scheduler = "mh"

        [[service.real]]
        address = "192.0.2.11"

        [[service]]
        vip = "203.0.113.20"
        port = 80
        scheduler = "mh"
        quorum = 2

        [service.check]
        type = "tcp"
        rise = 1
        fall = 1

        [service.sorry]
        address = "192.0.2.200"

        [[service.real]]
        address = "192.0.2.21"

        [[service.real]]
        address = "192.0.2.22"
        """;

    private readonly FakeTime _t = new();
    private readonly DirectorState _s;
    private readonly AnnouncePolicy _p = new();

    public AnnouncePolicyTests()
    {
        _s = NewState(Config, time: _t);
        _s.RunHook = (_, _) => { };
    }

    private AnnounceDecision Decide(long heartbeat = 1, long now = 0, bool drained = false, bool stopping = false) =>
        _p.Decide(_s.View, heartbeat, drained, stopping, now);

    private static string[] Announced(AnnounceDecision d) => d.Announce.Select(v => v.ToString()).Order().ToArray();

    private void Fail(string vip, ushort port, string real)
    {
        var svc = _s.View.Services.Single(x => x.Key.Vip.ToString() == vip && x.Key.Port == port);
        _t.Advance(1);
        _s.ReportCheck(svc.Reals.Single(r => r.Dest.Address.ToString() == real).Dest.Id, CheckResult.Fail("refused", TimeSpan.Zero), _t.Now);
    }

    [Fact]
    public void Every_vip_with_a_serving_service_is_announced()
    {
        var d = Decide();
        Assert.Equal([Vip, Vip2], Announced(d));
        Assert.Empty(d.Withheld);
    }

    [Fact]
    public void A_vip_whose_services_all_lost_their_reals_is_withheld_and_comes_back()
    {
        // Port 443 has no check: its real stays usable, so the VIP stays while port 80 has none.
        Fail(Vip, 80, "192.0.2.11");
        Fail(Vip, 80, "192.0.2.12");
        Assert.Equal([Vip, Vip2], Announced(Decide()));

        ApiOf(_s).EditReal("tcp", Vip, "443", "192.0.2.11", "443", new RealSpec(Weight: 0));
        var d = Decide();
        Assert.Equal([Vip2], Announced(d));
        // Every real of port 80 failed: below the default quorum of 1.
        Assert.Equal($"tcp {Vip}:80: quorum lost; tcp {Vip}:443: no healthy real server with weight > 0", d.Withheld[Vip]);

        ApiOf(_s).EditReal("tcp", Vip, "443", "192.0.2.11", "443", new RealSpec(Weight: 1));
        Assert.Equal([Vip, Vip2], Announced(Decide()));
    }

    [Fact]
    public void Lost_quorum_withholds_the_vip_even_while_the_sorry_server_serves()
    {
        Fail(Vip2, 80, "192.0.2.21"); // live weight 1 < quorum 2
        var d = Decide();
        Assert.Equal([Vip], Announced(d));
        Assert.Equal($"tcp {Vip2}:80: quorum lost", d.Withheld[Vip2]);
        Assert.Contains(_s.View.Services.Single(x => x.Key.Vip.ToString() == Vip2).Reals, r => r.IsSorry && r.Dest.Weight > 0);
    }

    [Fact]
    public void A_vip_without_reals_is_withheld()
    {
        ApiOf(_s).AddService(new ServiceSpec("tcp", "203.0.113.30", 80, "mh"));
        var d = Decide();
        Assert.Equal("tcp 203.0.113.30:80: no real server", d.Withheld["203.0.113.30"]);
        Assert.DoesNotContain("203.0.113.30", Announced(d));
    }

    [Fact]
    public void Drain_and_stop_withhold_everything()
    {
        var d = Decide(drained: true);
        Assert.Empty(d.Announce);
        Assert.Equal("director drained", d.Withheld[Vip]);
        Assert.Equal("stopping", Decide(stopping: true).Withheld[Vip2]);
        Assert.Equal([Vip, Vip2], Announced(Decide()));
    }

    [Fact]
    public void A_heartbeat_that_stands_still_for_a_second_withholds_everything_until_it_moves()
    {
        Assert.Equal(2, Decide(heartbeat: 7, now: 0).Announce.Count);
        Assert.Equal(2, Decide(heartbeat: 7, now: AnnouncePolicy.StallAfterMs).Announce.Count);
        var stalled = Decide(heartbeat: 7, now: AnnouncePolicy.StallAfterMs + 1);
        Assert.Empty(stalled.Announce);
        Assert.Equal("data plane stalled (no worker progress for more than 1000 ms)", stalled.Withheld[Vip]);
        Assert.Equal(stalled.Withheld[Vip], Decide(heartbeat: 7, now: 3000).Withheld[Vip]); // the same text while it lasts
        Assert.Equal(2, Decide(heartbeat: 8, now: 5000).Announce.Count);
        Assert.Equal(2, Decide(heartbeat: 8, now: 5000 + AnnouncePolicy.StallAfterMs).Announce.Count);
    }

    [Fact]
    public void A_vip_that_is_not_routed_into_the_capture_device_is_withheld()
    {
        var d = _p.Decide(_s.View, 1, false, false, 0, captured: [TunLB.Core.Flows.IpAddress.Parse(Vip)]);
        Assert.Equal([Vip], Announced(d));
        Assert.Equal("not routed into the capture device", d.Withheld[Vip2]);
    }

    [Fact]
    public void A_service_on_the_vip_that_can_serve_is_enough()
    {
        Fail(Vip, 80, "192.0.2.11");
        Fail(Vip, 80, "192.0.2.12");
        Assert.Null(AnnouncePolicy.Problem(_s.View.Services.Single(x => x.Key.Port == 443)));
        Assert.Equal("quorum lost", AnnouncePolicy.Problem(_s.View.Services.Single(x => x.Key.Vip.ToString() == Vip && x.Key.Port == 80)));
        ApiOf(_s).EditReal("tcp", Vip, "443", "192.0.2.11", "443", new RealSpec(Weight: 0));
        Assert.Equal("no healthy real server with weight > 0", AnnouncePolicy.Problem(_s.View.Services.Single(x => x.Key.Port == 443)));
    }
}
