using TunLB.Control.Api;
using TunLB.Control.Configuration;
using TunLB.Core.Connections;
using TunLB.Core.Packets;
using TunLB.Director.Api;
using TunLB.Director.Management;
using static TunLB.Director.Tests.Fixtures;

namespace TunLB.Director.Tests.Management;

public sealed class DirectorStateTests
{
    [Fact]
    public void StartsWithTheFileServicesPublishedToTheEngine()
    {
        var s = NewState();
        Assert.Equal(2, s.Engine.Services.Count);
        var reals = new HashSet<string?>();
        for (ushort p = 40000; p < 40004; p++) reals.Add(Send(s, Syn(p)).Real);
        Assert.Equal(["192.0.2.11", "192.0.2.12"], reals.Order());
    }

    [Fact]
    public void AddServiceAndRealThroughTheManagerForwardsAtOnce()
    {
        var s = NewState();
        Assert.Equal(DropReason.NoService, Send(s, Syn(40000, vport: 443)).Verdict);
        var dto = ApiOf(s).AddService(new ServiceSpec("tcp", Vip, 443, "wrr"));
        Assert.Equal("wrr", dto.Scheduler);
        Assert.Equal("255.255.255.255", dto.PersistenceNetmask);
        Assert.Equal(DropReason.NoDestination, Send(s, Syn(40000, vport: 443)).Verdict);

        var real = ApiOf(s).AddReal("tcp", Vip, "443", new RealSpec("192.0.2.31", Weight: 3));
        Assert.Equal(443, real.Port);
        Assert.Equal("tunnel", real.Forward);
        var (v, to) = Send(s, Syn(40001, vport: 443));
        Assert.Equal(DropReason.None, v);
        Assert.Equal("192.0.2.31", to);
        Assert.Equal(1, ApiOf(s).GetService("tcp", Vip, "443").Reals[0].Stats.Conns);
        Assert.Contains(s.Vips, a => a.ToString() == Vip);
    }

    [Fact]
    public void DuplicatesAreConflictsAndUnknownsAreNotFound()
    {
        var s = NewState();
        Assert.Equal(409, Assert.Throws<ApiException>(() => ApiOf(s).AddService(new ServiceSpec("tcp", Vip, 80))).Status);
        Assert.Equal(409, Assert.Throws<ApiException>(() => ApiOf(s).AddReal("tcp", Vip, "80", new RealSpec("192.0.2.11", 8080))).Status);
        Assert.Equal(404, Assert.Throws<ApiException>(() => ApiOf(s).GetService("tcp", Vip, "81")).Status);
        Assert.Equal(404, Assert.Throws<ApiException>(() => ApiOf(s).DeleteReal("tcp", Vip, "80", "192.0.2.99", "80")).Status);
        Assert.Equal(404, Assert.Throws<ApiException>(() => ApiOf(s).EditReal("tcp", Vip, "80", "192.0.2.11", "81", new RealSpec(Weight: 2))).Status);
    }

    public static TheoryData<ServiceSpec, string> BadServices => new()
    {
        { new ServiceSpec("sctp", Vip, 80), "protocol" },
        { new ServiceSpec(null, Vip, 80), "protocol" },
        { new ServiceSpec("tcp", "203.0.113.010", 81), "vip" },
        { new ServiceSpec("tcp", "224.0.0.1", 81), "vip" },
        { new ServiceSpec("tcp", "[2001:db8::1]", 81), "vip" },
        { new ServiceSpec("tcp", Vip, 65536), "port" },
        { new ServiceSpec("tcp", Vip, -1), "port" },
        { new ServiceSpec("tcp", Vip, 0), "port" },
        { new ServiceSpec("tcp", Vip, 81, "fifo"), "scheduler" },
        { new ServiceSpec("tcp", Vip, 81, "rr", ["mh-port"]), "flags" },
        { new ServiceSpec("tcp", Vip, 81, "mh", ["mh-bogus"]), "flags" },
        { new ServiceSpec("tcp", Vip, 81, "mh", MhTableSize: 65536), "mh_table_size" },
        { new ServiceSpec("tcp", Vip, 81, "mh", MhTableSize: 2), "mh_table_size" },
        { new ServiceSpec("tcp", Vip, 81, Persistence: -5), "persistence" },
        { new ServiceSpec("tcp", Vip, 81, Persistence: 60, PersistenceNetmask: "255.0.255.0"), "persistence_netmask" },
        { new ServiceSpec("tcp", Vip, 81, Persistence: 60, PersistenceNetmask: "33"), "persistence_netmask" },
        { new ServiceSpec("tcp", Vip, 81, Persistence: 60, PersistenceNetmask: "ffff::"), "persistence_netmask" },
    };

    [Theory, MemberData(nameof(BadServices))]
    public void BadServiceSpecsAre400NamingTheFieldAndChangeNothing(ServiceSpec spec, string field)
    {
        var s = NewState();
        var before = ConfigRenderer.Render(s).Split('\n').Skip(2).ToArray();
        var e = Assert.Throws<ApiException>(() => ApiOf(s).AddService(spec));
        Assert.Equal(400, e.Status);
        Assert.Equal(field, e.Field);
        Assert.Equal(before, ConfigRenderer.Render(s).Split('\n').Skip(2).ToArray());
    }

    public static TheoryData<RealSpec, string> BadReals => new()
    {
        { new RealSpec(null), "address" },
        { new RealSpec("192.0.2"), "address" },
        { new RealSpec("ff02::1"), "address" },              // multicast is no real server
        { new RealSpec("192.0.2.50", 70000), "port" },
        { new RealSpec("192.0.2.50", Weight: 65536), "weight" },
        { new RealSpec("192.0.2.50", Weight: -1), "weight" },
        { new RealSpec("192.0.2.50", UpperThreshold: -1), "upper_threshold" },
        { new RealSpec("192.0.2.50", UpperThreshold: 10, LowerThreshold: 11), "lower_threshold" },
        { new RealSpec("192.0.2.50", TunType: "gre"), "tun_type" },
        { new RealSpec("192.0.2.50", TunType: "gue", TunPort: 70000), "tun_port" },
        { new RealSpec("192.0.2.50", TunType: "gue", TunFlags: "remcsum"), "tun_flags" },
        { new RealSpec("192.0.2.50", TunPort: 6080), "tun_port" },
    };

    [Theory, MemberData(nameof(BadReals))]
    public void BadRealSpecsAre400NamingTheField(RealSpec spec, string field)
    {
        var s = NewState();
        var e = Assert.Throws<ApiException>(() => ApiOf(s).AddReal("tcp", Vip, "80", spec));
        Assert.Equal(400, e.Status);
        Assert.Equal(field, e.Field);
        Assert.Equal(2, ApiOf(s).GetService("tcp", Vip, "80").Reals.Count);
    }

    [Fact]
    public void EditServiceChangesSchedulerButNotItsKey()
    {
        var s = NewState();
        var svc = s.Engine.Services.Values.Single(v => v.Key.Port == 80);
        var before = svc.Scheduler;
        var dto = ApiOf(s).EditService("tcp", Vip, "80", new ServiceSpec(Scheduler: "wlc", Persistence: 300, PersistenceNetmask: "24"));
        Assert.Equal("wlc", dto.Scheduler);
        Assert.Equal(300, dto.Persistence);
        Assert.Equal("255.255.255.0", dto.PersistenceNetmask);
        svc = s.Engine.Services.Values.Single(v => v.Key.Port == 80); // the service's new version
        Assert.NotSame(before, svc.Scheduler);
        Assert.Equal("wlc", svc.Scheduler.Name);
        Assert.Equal("vip", Assert.Throws<ApiException>(() => ApiOf(s).EditService("tcp", Vip, "80", new ServiceSpec(Vip: "203.0.113.11"))).Field);
        Assert.Equal("flags", Assert.Throws<ApiException>(() => ApiOf(s).EditService("tcp", Vip, "80", new ServiceSpec(Flags: ["sh-port"]))).Field);
    }

    [Fact]
    public void WeightChangeKeepsEstablishedFlowsOnTheirServer()
    {
        var s = NewState();
        var (_, first) = Send(s, Syn(40000));
        Send(s, Ack(40000));
        var other = first == "192.0.2.11" ? "192.0.2.12" : "192.0.2.11";
        // Quiesce the server of the established flow and raise the other one.
        ApiOf(s).EditReal("tcp", Vip, "80", first, "80", new RealSpec(Weight: 0));
        ApiOf(s).EditReal("tcp", Vip, "80", other, "80", new RealSpec(Weight: 5));
        for (int i = 0; i < 5; i++) Assert.Equal((DropReason.None, first), Send(s, Ack(40000)));
        for (ushort p = 41000; p < 41010; p++) Assert.Equal((DropReason.None, other), Send(s, Syn(p)));
        var dto = ApiOf(s).GetService("tcp", Vip, "80").Reals.Single(r => r.Address == first);
        Assert.Equal(0, dto.Weight);
        Assert.Equal(1, dto.ActiveConns);
    }

    [Fact]
    public void DeletedRealStopsItsConnectionsAndASynIsRescheduled()
    {
        var s = NewState();
        var (_, first) = Send(s, Syn(40000));
        Send(s, Ack(40000));
        ApiOf(s).DeleteReal("tcp", Vip, "80", first, "80");
        Assert.Equal(DropReason.DestinationGone, Send(s, Ack(40000)).Verdict);
        var (v, to) = Send(s, Syn(40000));
        Assert.Equal(DropReason.None, v);
        Assert.NotEqual(first, to);
        Assert.Single(ApiOf(s).GetService("tcp", Vip, "80").Reals);
    }

    [Fact]
    public void DeletedServiceStopsForwardingAndClearRemovesAll()
    {
        var s = NewState();
        Send(s, Syn(40000));
        ApiOf(s).DeleteService("tcp", Vip, "80");
        Assert.Equal(DropReason.NoService, Send(s, Ack(40000)).Verdict);
        Assert.Single(ApiOf(s).ListServices());
        ApiOf(s).Clear();
        Assert.Empty(ApiOf(s).ListServices());
        Assert.Empty(s.Engine.Services);
        Assert.Empty(s.Vips);
    }

    [Fact]
    public void PersistenceTemplateFollowsIpvs_RescheduledWhenItsServerIsDeleted()
    {
        var s = NewState();
        ApiOf(s).EditService("tcp", Vip, "80", new ServiceSpec(Persistence: 300));
        var (_, first) = Send(s, Syn(40000));
        Assert.Equal(first, Send(s, Syn(40001)).Real); // same client: same server
        ApiOf(s).DeleteReal("tcp", Vip, "80", first, "80");
        var (v, to) = Send(s, Syn(40002));
        Assert.Equal(DropReason.None, v);
        Assert.NotEqual(first, to);
        Assert.Equal(to, Send(s, Syn(40003)).Real); // the template was rebound
    }

    [Fact]
    public void ConnectionListingShowsFlowsAndTemplates()
    {
        var s = NewState();
        ApiOf(s).EditService("tcp", Vip, "80", new ServiceSpec(Persistence: 60));
        var (_, to) = Send(s, Syn(40000), now: 1000);
        var list = ApiOf(s).ListConnections();
        Assert.Equal(2, list.Count);
        var c = list.Single(x => !x.Template);
        Assert.Equal(("tcp", Client, 40000, Vip, 80, to, "SYN_RECV"), (c.Protocol, c.Client, c.ClientPort, c.Vip, c.VipPort, c.Real, c.State));
        var t = list.Single(x => x.Template);
        Assert.Equal(("tcp", 80, to), (t.Protocol, t.VipPort, t.Real));
        Assert.Single(ApiOf(s).ListConnections(limit: 1));
    }

    [Fact]
    public void WorkerQueueRunsOnTheWorkerThreadAndZeroResetsCounters()
    {
        var s = NewState();
        for (ushort p = 40000; p < 40010; p++) Send(s, Syn(p));
        using var stop = new CancellationTokenSource();
        int workerThread = 0;
        var worker = new Thread(() =>
        {
            workerThread = Environment.CurrentManagedThreadId;
            while (!stop.IsCancellationRequested) { if (s.Commands.HasPending(0)) s.Commands.RunPending(0); Thread.Sleep(1); }
        });
        worker.Start();
        s.Commands.SetAllAttached(true);
        try
        {
            int ranOn = s.OnWorkers(_ => Environment.CurrentManagedThreadId)[0];
            Assert.Equal(workerThread, ranOn);
            Assert.NotEqual(Environment.CurrentManagedThreadId, ranOn);

            Assert.Equal(10, ApiOf(s).GetService("tcp", Vip, "80").Stats.Conns);
            ApiOf(s).Zero(new ZeroSpec("udp", Vip, 53)); // another service: this one keeps its counters
            Assert.Equal(10, ApiOf(s).GetService("tcp", Vip, "80").Stats.Conns);
            ApiOf(s).Zero(null);
            var svc = ApiOf(s).GetService("tcp", Vip, "80");
            Assert.Equal(0, svc.Stats.Conns);
            Assert.Equal(0, svc.Stats.InPkts);
            Assert.All(svc.Reals, r => Assert.Equal(0, r.Stats.InBytes));
            Assert.Equal(10, svc.Reals.Sum(r => r.InactiveConns)); // connection gauges are not counters

            ApiOf(s).SetTimeouts(new TimeoutsDto(100, 0, 7));
            Assert.Equal(new TimeoutsDto(100, 120, 7), ApiOf(s).GetTimeouts());
            Assert.Equal(10, ApiOf(s).ListConnections().Count);
        }
        finally
        {
            s.Commands.SetAllAttached(false);
            stop.Cancel();
            worker.Join();
        }
    }

    [Fact]
    public void StuckWorkerGives503()
    {
        var s = new DirectorState(Parse(Basic), new DirectorStateOptions { WorkerTimeout = TimeSpan.FromMilliseconds(100) });
        s.Commands.SetAllAttached(true); // but nobody drains the queue
        Assert.Equal(503, Assert.Throws<ApiException>(() => ApiOf(s).ListConnections()).Status);
    }

    [Fact]
    public void EstimatorComputesSmoothedRatesFromCounterDeltas()
    {
        var s = NewState();
        s.SampleRates(2); // first sample: history, not rate
        for (ushort p = 40000; p < 40020; p++) Send(s, Syn(p)); // 20 conns in "2 s" = 10 cps
        s.SampleRates(2);
        var r = ApiOf(s).GetService("tcp", Vip, "80").Rates;
        Assert.Equal(10 / 4.0, r.Cps, 6);            // avg += (rate - avg) / 4
        Assert.Equal(10 / 4.0, r.InPps, 6);
        Assert.Equal(10 * 40 / 4.0, r.InBps, 6);     // 40-byte SYNs
        s.SampleRates(2);
        Assert.Equal(2.5 - 2.5 / 4, ApiOf(s).GetService("tcp", Vip, "80").Rates.Cps, 6);
        Assert.Equal(0, ApiOf(s).GetService("udp", Vip, "53").Rates.Cps);
        Assert.True(ApiOf(s).Stats().Rates.Cps > 0);
        Assert.Equal(20, ApiOf(s).Stats().Total.Conns);
        Assert.Equal(0, ApiOf(s).Stats().Total.OutPkts);
    }

    [Fact]
    public void StatsNameEveryDropReason()
    {
        var s = NewState();
        Send(s, Ack(40000));
        var st = ApiOf(s).Stats();
        Assert.Equal(DropReasons.Count - 1, st.Drops.Count);
        Assert.Equal(1, st.Drops["tcp_no_connection"]);
    }
}
