using TunLB.Control.Api;
using TunLB.Health;
using TunLB.Core.DataPath;
using TunLB.Core.Flows;
using TunLB.Core.Packets;
using TunLB.Director.Api;
using TunLB.Director.Management;
using static TunLB.Director.Tests.Fixtures;

namespace TunLB.Director.Tests.Health;


public sealed class HealthStateTests
{
    private const string Checked = """
        [director]
        conn_max = 1000

        [[service]]
        vip = "203.0.113.10"
        port = 80
        scheduler = "rr"

        [service.check]
        type = "http"
        rise = 2
        fall = 2
        interval = 1.0
        timeout = 0.5

        [[service.real]]
        address = "192.0.2.11"

        [[service.real]]
        address = "192.0.2.12"
        """;

    private static (DirectorState S, FakeTime T, List<string> Log, List<string> Hooks) New(string toml = Checked)
    {
        var log = new List<string>();
        var hooks = new List<string>();
        var t = new FakeTime();
        var s = NewState(toml, log: log, time: t);
        s.RunHook = (cmd, what) => hooks.Add(cmd);
        return (s, t, log, hooks);
    }

    private static int Id(DirectorState s, string addr) => s.Services[0].Destinations.First(d => d.Address.ToString() == addr).Id;

    private static void Report(DirectorState s, FakeTime t, string addr, bool ok, int times = 1, string detail = "x")
    {
        for (int i = 0; i < times; i++)
        {
            t.Advance(1);
            s.ReportCheck(Id(s, addr), ok ? CheckResult.Pass(detail, TimeSpan.FromMilliseconds(3)) : CheckResult.Fail(detail, TimeSpan.FromMilliseconds(500)), t.Now);
        }
    }

    private static HashSet<string?> Targets(DirectorState s, ushort from, int n = 6)
    {
        var set = new HashSet<string?>();
        for (int i = 0; i < n; i++) set.Add(Send(s, Syn((ushort)(from + i))).Real);
        return set;
    }

    [Fact]
    public void FallRemovesFromSchedulingAndExpiresItsFlowsRiseBringsItBack()
    {
        var (s, t, log, _) = New();
        Assert.Equal(["192.0.2.11", "192.0.2.12"], Targets(s, 40000).Order());
        // One established flow to each real.
        var flows = new Dictionary<string, ushort>();
        for (ushort p = 41000; flows.Count < 2; p++) { var r = Send(s, Syn(p)).Real!; flows.TryAdd(r, p); }

        Report(s, t, "192.0.2.11", ok: false, detail: "connect timeout after 0.5 s");
        Assert.Equal(2, Targets(s, 42000).Count); // 1/2 failures: still up
        Report(s, t, "192.0.2.11", ok: false, detail: "connect timeout after 0.5 s");

        Assert.Equal(["192.0.2.12"], Targets(s, 43000));
        Assert.Contains(log, l => l == "tunlb director: health: real 192.0.2.11:80 of tcp 203.0.113.10:80 DOWN (2/2 failures; last: connect timeout after 0.5 s); removed from scheduling");
        // expire_nodest_conn: its flow's next segment is dropped, a new SYN from the same port is rescheduled.
        Assert.Equal(DropReason.DestinationGone, Send(s, Ack(flows["192.0.2.11"])).Verdict);
        Assert.Equal("192.0.2.12", Send(s, Syn(flows["192.0.2.11"])).Real);
        Assert.Equal(DropReason.None, Send(s, Ack(flows["192.0.2.12"])).Verdict); // the other real's flow goes on

        var dto = ApiOf(s).GetService("tcp", Vip, "80").Reals.First(r => r.Address == "192.0.2.11");
        Assert.Equal("down", dto.Health!.Status);
        Assert.Equal(false, dto.Health.LastOk);
        Assert.Equal("connect timeout after 0.5 s", dto.Health.LastResult);
        Assert.Equal(2, dto.Health.Failures);

        Report(s, t, "192.0.2.11", ok: true);
        Assert.Equal(["192.0.2.12"], Targets(s, 44000));
        Report(s, t, "192.0.2.11", ok: true);
        Assert.Equal(["192.0.2.11", "192.0.2.12"], Targets(s, 45000).Order());
        Assert.Contains(log, l => l.StartsWith("tunlb director: health: real 192.0.2.11:80 of tcp 203.0.113.10:80 UP (2/2 successes"));
        Assert.Equal(2, ApiOf(s).GetService("tcp", Vip, "80").Reals[0].Health!.UpDownTransitions);
    }

    [Fact]
    public void InhibitSetsWeightZeroAndKeepsExistingFlows()
    {
        var (s, t, log, _) = New(Checked.Replace("timeout = 0.5", "timeout = 0.5\non_failure = \"inhibit\""));
        var flows = new Dictionary<string, ushort>();
        for (ushort p = 41000; flows.Count < 2; p++) { var r = Send(s, Syn(p)).Real!; flows.TryAdd(r, p); }
        Report(s, t, "192.0.2.11", ok: false, times: 2);
        Assert.Equal(["192.0.2.12"], Targets(s, 43000));
        Assert.Equal(DropReason.None, Send(s, Ack(flows["192.0.2.11"])).Verdict); // goes on
        var dto = ApiOf(s).GetService("tcp", Vip, "80").Reals[0];
        Assert.Equal(0, dto.Weight);
        Assert.Equal(1, dto.Health!.ConfiguredWeight);
        Assert.Contains(log, l => l.Contains("DOWN") && l.EndsWith("inhibited (weight 0)"));
        Report(s, t, "192.0.2.11", ok: true, times: 2);
        Assert.Equal(1, ApiOf(s).GetService("tcp", Vip, "80").Reals[0].Weight);
    }

    [Fact]
    public void AlphaStartsDownAndComesUpAfterRise()
    {
        var (s, t, _, _) = New(Checked.Replace("rise = 2", "rise = 2\nalpha = true"));
        Assert.Equal(DropReason.NoDestination, Send(s, Syn(40000)).Verdict);
        Report(s, t, "192.0.2.12", ok: true, times: 2);
        Assert.Equal(["192.0.2.12"], Targets(s, 40100));
    }

    private const string WithSorry = """
        [[service]]
        vip = "203.0.113.10"
        port = 80
        scheduler = "rr"
        quorum = 2
        hysteresis = 1
        quorum_up = "echo up"
        quorum_down = "echo down"

        [service.check]
        type = "tcp"
        rise = 1
        fall = 1

        [service.sorry]
        address = "192.0.2.200"

        [[service.real]]
        address = "192.0.2.11"
        weight = 1

        [[service.real]]
        address = "192.0.2.12"
        weight = 2
        """;

    [Fact]
    public void QuorumWithHysteresisSwitchesToTheSorryServerAndBack()
    {
        var (s, t, log, hooks) = New(WithSorry);
        // live weight 3 >= quorum 2 (+1): up, no sorry server.
        Assert.Equal(["192.0.2.11", "192.0.2.12"], Targets(s, 40000).Order());
        Report(s, t, "192.0.2.12", ok: false);       // live 1: 1 >= 2-1 → still up (hysteresis)
        Assert.Equal(["192.0.2.11"], Targets(s, 40100));
        Assert.Empty(hooks);
        Report(s, t, "192.0.2.11", ok: false);       // live 0 < 1 → lost
        Assert.Equal(["echo down"], hooks);
        Assert.Equal(["192.0.2.200"], Targets(s, 40200));
        Assert.Contains(log, l => l.Contains("lost quorum (live weight 0, quorum 2, hysteresis 1); sorry server 192.0.2.200:80 in"));
        var h = ApiOf(s).HealthReport().Services[0];
        Assert.False(h.QuorumUp);
        Assert.True(h.SorryActive);

        Report(s, t, "192.0.2.11", ok: true);        // live 1: not >= 3 → still down, reals stay out
        Assert.Equal(["192.0.2.200"], Targets(s, 40300));
        Report(s, t, "192.0.2.12", ok: true);        // live 3 >= 3 → gained
        Assert.Equal(["echo down", "echo up"], hooks);
        Assert.Equal(["192.0.2.11", "192.0.2.12"], Targets(s, 40400).Order());
        // The sorry server is quiesced, then leaves the data path once idle.
        s.HealthTick();
        Assert.DoesNotContain(s.Services[0].Destinations, d => d.Address.ToString() == "192.0.2.200");
        Assert.Equal("standby", ApiOf(s).HealthReport().Services[0].Reals.Single(r => r.Address == "192.0.2.200").Health.Status);
    }

    [Fact]
    public void SorryServerTakesOverWhenEveryRealIsDownWithDefaultQuorum()
    {
        var (s, t, _, _) = New(WithSorry.Replace("quorum = 2\nhysteresis = 1\n", ""));
        Report(s, t, "192.0.2.11", ok: false);
        Assert.Equal(["192.0.2.12"], Targets(s, 40000));
        Report(s, t, "192.0.2.12", ok: false);
        Assert.Equal(["192.0.2.200"], Targets(s, 40100));
        Assert.DoesNotContain("sorry", ApiOf(s).GetService("tcp", Vip, "80").Reals.Where(r => r.Address != "192.0.2.200").Select(r => r.Health!.Status));
    }

    [Fact]
    public void ReloadWithAnotherSorryServerSwapsItAndWithoutOneTakesItOut()
    {
        var (s, t, _, _) = New(WithSorry.Replace("quorum = 2\nhysteresis = 1\n", ""));
        Report(s, t, "192.0.2.11", ok: false);
        Report(s, t, "192.0.2.12", ok: false);
        Assert.Equal(["192.0.2.200"], Targets(s, 40000));
        Assert.True(s.Apply(Parse(WithSorry.Replace("quorum = 2\nhysteresis = 1\n", "").Replace("192.0.2.200", "192.0.2.201"))).Ok);
        Assert.Equal(["192.0.2.201"], Targets(s, 40100));
        Assert.DoesNotContain(s.Services[0].Destinations, d => d.Address.ToString() == "192.0.2.200");
        Assert.True(s.Apply(Parse(WithSorry.Replace("quorum = 2\nhysteresis = 1\n", "").Replace("[service.sorry]\naddress = \"192.0.2.200\"\n", ""))).Ok);
        Assert.Equal(DropReason.NoDestination, Send(s, Syn(40200)).Verdict); // no sorry server any more, every real down
        Assert.Equal("down", ApiOf(s).GetService("tcp", Vip, "80").Reals[0].Health!.Status); // health kept across both reloads
    }

    [Fact]
    public void DrainQuiescesAndDeletesWhenIdle()
    {
        var (s, t, log, _) = New();
        ushort p = 41000;
        while (Send(s, Syn(p)).Real != "192.0.2.11") p++;
        Send(s, Ack(p)); // established: active
        var dto = ApiOf(s).Drain("tcp", Vip, "80", "192.0.2.11", "80", new DrainSpec(RemoveWhenIdle: true));
        Assert.Equal(0, dto.Weight);
        Assert.True(dto.Health!.Draining);
        Assert.Equal(["192.0.2.12"], Targets(s, 43000));
        Assert.Equal(DropReason.None, Send(s, Ack(p)).Verdict);   // the download goes on
        s.HealthTick();
        Assert.Contains(s.Services[0].Destinations, d => d.Address.ToString() == "192.0.2.11");
        Send(s, TestPackets.Tcp(Client, p, Vip, 80, TcpFlags.Fin | TcpFlags.Ack)); // the flow ends: no longer active
        s.HealthTick();
        Assert.DoesNotContain(s.Services[0].Destinations, d => d.Address.ToString() == "192.0.2.11");
        Assert.True(log.Any(l => l.Contains("drained real 192.0.2.11:80 of tcp 203.0.113.10:80 is idle: deleted")), string.Join("\n", log));
    }

    [Fact]
    public void UndrainRestoresTheWeight()
    {
        var (s, _, _, _) = New();
        ApiOf(s).Drain("tcp", Vip, "80", "192.0.2.11", "80", null);
        s.HealthTick();
        Assert.Equal(["192.0.2.12"], Targets(s, 43000));
        var dto = ApiOf(s).Undrain("tcp", Vip, "80", "192.0.2.11", "80");
        Assert.Equal(1, dto.Weight);
        Assert.False(dto.Health!.Draining);
        Assert.Equal(2, Targets(s, 44000).Count);
    }

    [Fact]
    public void ApiWeightEditsTheConfiguredWeightWhileInhibited()
    {
        var (s, t, _, _) = New(Checked.Replace("timeout = 0.5", "timeout = 0.5\non_failure = \"inhibit\""));
        Report(s, t, "192.0.2.11", ok: false, times: 2);
        var dto = ApiOf(s).EditReal("tcp", Vip, "80", "192.0.2.11", "80", new RealSpec(Weight: 5));
        Assert.Equal(0, dto.Weight);
        Assert.Equal(5, dto.Health!.ConfiguredWeight);
        Assert.Contains("weight = 5", ConfigRenderer.Render(s));
        Report(s, t, "192.0.2.11", ok: true, times: 2);
        Assert.Equal(5, ApiOf(s).GetService("tcp", Vip, "80").Reals[0].Weight);
    }

    [Fact]
    public void AgentDrainAndPercentAndMiscDynamicWeights()
    {
        var (s, t, log, _) = New(Checked.Replace("type = \"http\"", "type = \"agent\"").Replace("address = \"192.0.2.12\"", "address = \"192.0.2.12\"\nweight = 4"));
        int id = Id(s, "192.0.2.12");
        s.ReportCheck(id, AgentReply.Parse("up 50%", TimeSpan.Zero), t.Now);
        Assert.Equal(2, s.Services[0].Destinations.First(d => d.Id == id).Weight);
        s.ReportCheck(id, AgentReply.Parse("drain", TimeSpan.Zero), t.Now);
        Assert.Equal(0, s.Services[0].Destinations.First(d => d.Id == id).Weight);
        Assert.Equal("drain", ApiOf(s).GetService("tcp", Vip, "80").Reals[1].Health!.Admin);
        Assert.Contains(log, l => l.Contains("agent says DRAIN"));
        s.ReportCheck(id, AgentReply.Parse("ready,weight:3", TimeSpan.Zero), t.Now);
        Assert.Equal(3, s.Services[0].Destinations.First(d => d.Id == id).Weight);

        var (m, mt, _, _) = New(Checked.Replace("type = \"http\"", "type = \"misc\"\ncommand = \"true\"\ndynamic = true"));
        int mid = Id(m, "192.0.2.11");
        m.ReportCheck(mid, MiscChecker.Evaluate(7, true, "", TimeSpan.Zero), mt.Now);
        Assert.Equal(5, m.Services[0].Destinations.First(d => d.Id == mid).Weight);
        m.ReportCheck(mid, MiscChecker.Evaluate(0, true, "", TimeSpan.Zero), mt.Now);
        Assert.Equal(1, m.Services[0].Destinations.First(d => d.Id == mid).Weight);
    }

    [Fact]
    public void HealthStateSurvivesAReloadForRealsThatStay()
    {
        var (s, t, _, _) = New();
        Report(s, t, "192.0.2.11", ok: false, times: 2);
        Assert.Equal(["192.0.2.12"], Targets(s, 43000));
        var r = s.Apply(Parse(Checked.Replace("fall = 2", "fall = 3") + "\n[[service.real]]\naddress = \"192.0.2.13\"\n"));
        Assert.True(r.Ok);
        var reals = ApiOf(s).GetService("tcp", Vip, "80").Reals;
        Assert.Equal("down", reals.Single(x => x.Address == "192.0.2.11").Health!.Status);
        Assert.Equal("up", reals.Single(x => x.Address == "192.0.2.13").Health!.Status);
        Assert.Equal(["192.0.2.12", "192.0.2.13"], Targets(s, 44000).Order());
        Assert.Contains(r.Changes, c => c.Contains("real 192.0.2.11:80 check tcp") || c.Contains("check http"));

        // Removing the check makes every real unchecked and schedulable again.
        s.Apply(Parse(Checked.Replace("type = \"http\"", "type = \"none\"")));
        Assert.Equal(["192.0.2.11", "192.0.2.12"], Targets(s, 45000).Order());
    }

    [Fact]
    public void ResultsOfAnOldCheckGenerationAreIgnored()
    {
        var (s, t, _, _) = New();
        var due = s.TakeDueChecks(t.Now.AddSeconds(5));
        Assert.Equal(2, due.Count);
        Assert.Empty(s.TakeDueChecks(t.Now.AddSeconds(5))); // running
        s.Apply(Parse(Checked.Replace("fall = 2", "fall = 1")));
        s.ReportCheck(due[0].Health.Dest.Id, CheckResult.Fail("late", TimeSpan.Zero), t.Now, due[0].Generation);
        Assert.Equal(2, Targets(s, 40000).Count);
    }

    [Fact]
    public void PinnedFlowsGoToTheirRealEvenWhenItIsDown()
    {
        var (s, t, _, _) = New();
        var pins = new PinnedFlows(61000, 100);
        s.Engine.Pinned = pins;
        Report(s, t, "192.0.2.11", ok: false, times: 2);
        pins.Pin(61005, IpProtocol.Tcp, Id(s, "192.0.2.11"));
        var check = TestPackets.Tcp(DirectorAddress.ToString(), 61005, Vip, 80, TcpFlags.Syn);
        long conns = s.Services[0].Connections;
        for (int i = 0; i < 5; i++) Assert.Equal(("192.0.2.11"), Send(s, check).Real);
        Assert.Equal(5, pins.Packets);
        Assert.Equal(conns, s.Services[0].Connections); // not counted as client connections
        Assert.Equal(0, s.Engine.Connections.Count);
        // Another port of the range, or the same port from a client address, is not pinned.
        Assert.Equal("192.0.2.12", Send(s, TestPackets.Tcp(Client, 61005, Vip, 80, TcpFlags.Syn)).Real);
        pins.Unpin(61005);
        Assert.Equal("192.0.2.12", Send(s, TestPackets.Tcp(DirectorAddress.ToString(), 61005, Vip, 80, TcpFlags.Syn)).Real);
        Assert.Equal(-1, pins.Lookup(61005, IpProtocol.Tcp));
        pins.Pin(61006, IpProtocol.Udp, 3);
        Assert.Equal(-1, pins.Lookup(61006, IpProtocol.Tcp));
        Assert.Equal(3, pins.Lookup(61006, IpProtocol.Udp));
        Assert.Equal(-1, pins.Lookup(60999, IpProtocol.Udp));
    }

    [Fact]
    public void MetricsAndHealthReport()
    {
        var (s, t, _, _) = New();
        Report(s, t, "192.0.2.11", ok: false, times: 2);
        var m = Metrics.Render(s);
        Assert.Contains("tunlb_backend_up{vip=\"203.0.113.10\",port=\"80\",proto=\"tcp\",real=\"192.0.2.11:80\"} 0", m);
        Assert.Contains("tunlb_backend_up{vip=\"203.0.113.10\",port=\"80\",proto=\"tcp\",real=\"192.0.2.12:80\"} 1", m);
        Assert.Contains("tunlb_backend_check_failures_total{vip=\"203.0.113.10\",port=\"80\",proto=\"tcp\",real=\"192.0.2.11:80\"} 2", m);
        Assert.Contains("tunlb_backend_check_up_down_total{vip=\"203.0.113.10\",port=\"80\",proto=\"tcp\",real=\"192.0.2.11:80\"} 1", m);
        Assert.Contains("tunlb_backend_check_duration_seconds{vip=\"203.0.113.10\",port=\"80\",proto=\"tcp\",real=\"192.0.2.11:80\"} 0.5", m);
        t.Advance(7);
        Assert.Contains("tunlb_backend_last_change_seconds{vip=\"203.0.113.10\",port=\"80\",proto=\"tcp\",real=\"192.0.2.11:80\"} 7", Metrics.Render(s));
        Assert.Contains("# TYPE tunlb_service_quorum_up gauge", m);
        var report = ApiOf(s).HealthReport();
        Assert.Equal(1, report.Services[0].LiveWeight);
        Assert.Equal("61000-61999 (not in use)", report.CheckPortRange);
    }
}

public sealed class HealthRenderTests
{
    [Fact]
    public void ConfigTomlKeepsChecksSorryAndQuorum()
    {
        const string toml = """
            [director]
            check_port_range = "62000-62010"

            [[service]]
            vip = "203.0.113.10"
            port = 80
            quorum = 3
            hysteresis = 1
            quorum_down = "logger 'down'"

            [service.check]
            type = "http"
            path = "/healthz"
            expect_body = "ok"
            interval = 1.5
            timeout = 1
            on_failure = "inhibit"
            dampening = true

            [service.sorry]
            address = "192.0.2.200"
            port = 8080
            weight = 2

            [[service.real]]
            address = "192.0.2.11"
            weight = 3

            [[service.real]]
            address = "192.0.2.12"
            [service.real.check]
            type = "udp"
            port = 53
            payload = "ping\x01"
            via = "direct"

            [[service]]
            vip = "203.0.113.10"
            port = 443

            [[service.real]]
            address = "192.0.2.11"
            """;
        var s = NewState(toml);
        var text = ConfigRenderer.Render(s);
        var back = Parse(text, "rendered.toml");
        var orig = Parse(toml);
        Assert.Equal(orig.Director.CheckPortRange, back.Director.CheckPortRange);
        for (int i = 0; i < 2; i++)
        {
            var (a, b) = (orig.Services[i].Health, back.Services[i].Health);
            Assert.Equal((a.Check, a.Sorry, a.Quorum, a.Hysteresis, a.QuorumUp, a.QuorumDown), (b.Check, b.Sorry, b.Quorum, b.Hysteresis, b.QuorumUp, b.QuorumDown));
            foreach (var r in orig.Services[i].Reals) Assert.Equal(a.CheckFor(r.Address), b.CheckFor(r.Address));
        }
        Assert.DoesNotContain("quorum", text.Split("[[service]]")[2]); // nothing health-related on the plain service
    }
}

public sealed class PortReuseTests
{
    [Fact]
    public void ASynReusingAClosedTupleIsScheduledAfreshSoADrainedRealGetsNoNewConnection()
    {
        var s = NewState();
        ushort p = 41000;
        while (Send(s, Syn(p)).Real != "192.0.2.11") p++;
        Send(s, Ack(p));
        Send(s, TestPackets.Tcp(Client, p, Vip, 80, TcpFlags.Fin | TcpFlags.Ack)); // the client closed: FIN_WAIT
        ApiOf(s).Drain("tcp", Vip, "80", "192.0.2.11", "80", null);
        int entries = s.Engine.Connections.Count;
        Assert.Equal("192.0.2.12", Send(s, Syn(p)).Real);
        Assert.Equal(entries, s.Engine.Connections.Count); // the old entry was replaced, not duplicated
        Assert.Equal(DropReason.None, Send(s, Ack(p)).Verdict);
        var reals = ApiOf(s).GetService("tcp", Vip, "80").Reals;
        Assert.Equal(0, reals.Single(r => r.Address == "192.0.2.11").InactiveConns + reals.Single(r => r.Address == "192.0.2.11").ActiveConns);
    }

    [Fact]
    public void ASynRetransmittedDuringTheHandshakeKeepsItsReal()
    {
        var s = NewState();
        var first = Send(s, Syn(41000)).Real;
        Assert.Equal(first, Send(s, Syn(41000)).Real); // SYN_RECV: not a reuse
        Send(s, Ack(41000));
        Assert.Equal(first, Send(s, Syn(41000)).Real); // ESTABLISHED: a stray SYN does not move the flow
    }
}

public sealed class DrainReloadTests
{
    [Fact]
    public void ADrainSurvivesAReloadAndADrainDeletedRealComesBack()
    {
        const string toml = "[[service]]\nvip = \"203.0.113.10\"\nport = 80\nscheduler = \"rr\"\n[[service.real]]\naddress = \"192.0.2.11\"\n[[service.real]]\naddress = \"192.0.2.12\"\n";
        var s = NewState(toml);
        ApiOf(s).Drain("tcp", Vip, "80", "192.0.2.11", "80", null);
        ApiOf(s).Drain("tcp", Vip, "80", "192.0.2.12", "80", new Control.Api.DrainSpec(RemoveWhenIdle: true)); // idle: deleted at once
        Assert.Single(s.Services[0].Destinations);
        Assert.True(s.Apply(Parse(toml)).Ok);
        var reals = ApiOf(s).GetService("tcp", Vip, "80").Reals;
        Assert.True(reals.Single(r => r.Address == "192.0.2.11").Health!.Draining);
        Assert.Equal(0, reals.Single(r => r.Address == "192.0.2.11").Weight);
        Assert.False(reals.Single(r => r.Address == "192.0.2.12").Health!.Draining);
        Assert.Equal("192.0.2.12", Send(s, Syn(40000)).Real);
    }
}
