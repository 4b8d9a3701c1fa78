using TunLB.Core.Connections;
using TunLB.Core.DataPath;
using TunLB.Core.Flows;
using TunLB.Core.Model;
using TunLB.Core.Packets;
using TunLB.Core.Scheduling;
using TunLB.Core.Sync;
using TunLB.Core.Tests.DataPath;

namespace TunLB.Core.Tests.Sync;

/// <summary>The engine's side of connection sync: records for new connections, state changes and templates; peers' records applied.</summary>
public class DirectorEngineSyncTests
{
    private const string Vip = "203.0.113.10";
    private const string Client = "198.51.100.10";
    private readonly byte[] _out = new byte[2048];

    private static Destination[] Dests(int firstId = 1) =>
    [
        new(firstId, IpAddress.Parse("192.0.2.21"), 80, 1) { OuterSource = IpAddress.Parse("192.0.2.2") },
        new(firstId + 1, IpAddress.Parse("192.0.2.22"), 80, 1) { OuterSource = IpAddress.Parse("192.0.2.2") },
    ];

    private static (DirectorEngine Engine, VirtualService Service, SyncEventQueue Queue) Setup(int persistence = 0, int firstId = 1)
    {
        var svc = new VirtualService(new ServiceKey(IpAddress.Parse(Vip), 80, IpProtocol.Tcp), SchedulerFactory.Create("wlc"), Dests(firstId))
        {
            PersistenceSeconds = persistence,
        };
        var e = new DirectorEngine(new DirectorEngineOptions { ConnectionCapacity = 256, HashSeed = 3, SloppyTcp = true });
        e.SetServices([svc]);
        var q = new SyncEventQueue(64);
        e.SyncQueue = q;
        return (e, svc, q);
    }

    private static byte[] Tcp(ushort port, byte flags) => TestPackets.Tcp(Client, port, Vip, 80, flags, payload: 10);
    private static FlowKey Flow(ushort port) => new(IpAddress.Parse(Client), IpAddress.Parse(Vip), port, 80, IpProtocol.Tcp);

    private static List<SyncRecord> Drain(SyncEventQueue q)
    {
        var list = new List<SyncRecord>();
        while (q.TryPop(out var r)) list.Add(r);
        return list;
    }

    [Fact]
    public void A_new_connection_and_each_state_change_are_queued_but_plain_data_packets_are_not()
    {
        var (e, _, q) = Setup();
        e.ProcessOne(Tcp(40000, TcpFlags.Syn), _out, 1000, out _, out var hop);
        e.ProcessOne(Tcp(40000, TcpFlags.Ack), _out, 1001, out _, out _);
        for (int i = 0; i < 50; i++) e.ProcessOne(Tcp(40000, TcpFlags.Ack | TcpFlags.Psh), _out, 1002 + i, out _, out _);
        e.ProcessOne(Tcp(40000, TcpFlags.Fin | TcpFlags.Ack), _out, 2000, out _, out _);
        var got = Drain(q);
        Assert.Equal([ConnState.SynRecv, ConnState.Established, ConnState.FinWait], got.Select(r => r.ConnState));
        Assert.All(got, r => Assert.Equal(Flow(40000), r.Key));
        Assert.All(got, r => Assert.Equal(hop, r.Real));
        Assert.Equal((uint)(e.Timeouts.TcpMs / 1000), got[1].TimeoutSeconds);
    }

    [Fact]
    public void A_flow_adopted_mid_flow_is_queued_once()
    {
        var (e, _, q) = Setup();
        e.ProcessOne(Tcp(40001, TcpFlags.Ack), _out, 1000, out _, out _);
        e.ProcessOne(Tcp(40001, TcpFlags.Ack), _out, 1001, out _, out _);
        Assert.Equal([ConnState.Established], Drain(q).Select(r => r.ConnState));
    }

    [Fact]
    public void A_persistence_template_is_queued_when_made_not_for_every_connection_it_lets_through()
    {
        var (e, _, q) = Setup(persistence: 360);
        e.ProcessOne(Tcp(40000, TcpFlags.Syn), _out, 1000, out _, out _);
        e.ProcessOne(Tcp(40001, TcpFlags.Syn), _out, 1001, out _, out _);
        var got = Drain(q);
        Assert.Equal(1, got.Count(r => r.IsTemplate));
        var t = got.Single(r => r.IsTemplate);
        Assert.Equal((IpProtocol.Tcp, (ushort)0, (ushort)80, 360u), (t.Protocol, t.ClientPort, t.VirtualPort, t.TimeoutSeconds));
        Assert.Equal(2, got.Count(r => !r.IsTemplate));
    }

    [Fact]
    public void A_peers_record_makes_the_same_real_serve_the_flow_here_whatever_this_scheduler_would_pick()
    {
        var (a, _, qa) = Setup();
        var (b, svcB, qb) = Setup(firstId: 11); // other ids on the other director: matched by address
        for (ushort p = 0; p < 4; p++) a.ProcessOne(Tcp((ushort)(41000 + p), TcpFlags.Syn), _out, 1000, out _, out _);
        var records = Drain(qa);
        foreach (var r in records) Assert.Equal(SyncApplyResult.Applied, b.ApplySync(r, 5000, insert: true));
        Assert.Empty(Drain(qb)); // applying never echoes
        foreach (var r in records)
        {
            int i = b.Connections.Find(r.Key);
            Assert.True(i >= 0);
            Assert.Equal(r.Real, b.FindDestination(b.Connections[i].DestinationId)!.Address);
            Assert.Equal(ConnState.SynRecv, b.Connections[i].State);
            Assert.Equal(5000 + r.TimeoutSeconds * 1000L, b.Connections[i].ExpiresAtMs);
            // and B forwards the flow's next segment there
            b.ProcessOne(Tcp(r.ClientPort, TcpFlags.Ack), _out, 5001, out _, out var hop);
            Assert.Equal(r.Real, hop);
        }
        Assert.Equal(4, svcB.Destinations.Sum(d => d.ActiveConnections + d.InactiveConnections));
        Assert.Equal(0, svcB.Connections); // not scheduled here
    }

    [Fact]
    public void An_update_moves_state_gauges_and_real_and_templates_count_as_persistent()
    {
        var (b, svc, _) = Setup();
        var key = Flow(42000);
        var d1 = svc.Destinations[0];
        var d2 = svc.Destinations[1];
        Assert.Equal(SyncApplyResult.Applied, b.ApplySync(SyncRecord.From(key, ConnState.SynRecv, d1.Address, 80, 60), 0, true));
        Assert.Equal((0, 1), (d1.ActiveConnections, d1.InactiveConnections));
        Assert.Equal(SyncApplyResult.Applied, b.ApplySync(SyncRecord.From(key, ConnState.Established, d1.Address, 80, 900), 10, true));
        Assert.Equal((1, 0), (d1.ActiveConnections, d1.InactiveConnections));
        Assert.Equal(SyncApplyResult.Applied, b.ApplySync(SyncRecord.From(key, ConnState.Established, d2.Address, 80, 900), 20, true));
        Assert.Equal((0, 0, 1, 0), (d1.ActiveConnections, d1.InactiveConnections, d2.ActiveConnections, d2.InactiveConnections));
        Assert.Equal(1, b.Connections.Count);

        var tkey = new FlowKey(IpAddress.Parse("198.51.100.0"), IpAddress.Parse(Vip), IpProtocol.Tcp, 80, 0);
        Assert.Equal(SyncApplyResult.Applied, b.ApplySync(SyncRecord.From(tkey, ConnState.Template, d1.Address, 80, 300), 0, true));
        Assert.Equal(1, d1.PersistentConnections);
        Assert.Equal(ConnState.Template, b.Connections[b.Connections.Find(tkey)].State);
    }

    [Fact]
    public void Unknown_services_and_reals_change_nothing()
    {
        var (b, svc, _) = Setup();
        var rec = SyncRecord.From(Flow(43000), ConnState.Established, IpAddress.Parse("192.0.2.99"), 80, 900);
        Assert.Equal(SyncApplyResult.UnknownReal, b.ApplySync(rec, 0, true));
        var other = SyncRecord.From(new FlowKey(IpAddress.Parse(Client), IpAddress.Parse(Vip), 43000, 81, IpProtocol.Tcp),
            ConnState.Established, svc.Destinations[0].Address, 81, 900);
        Assert.Equal(SyncApplyResult.UnknownService, b.ApplySync(other, 0, true));
        svc.Destinations[0].HealthDown = true;
        Assert.Equal(SyncApplyResult.UnknownReal,
            b.ApplySync(SyncRecord.From(Flow(43001), ConnState.Established, svc.Destinations[0].Address, 80, 900), 0, true));
        Assert.Equal(0, b.Connections.Count);
        Assert.Equal(SyncApplyResult.NotHere,
            b.ApplySync(SyncRecord.From(Flow(43002), ConnState.Established, svc.Destinations[1].Address, 80, 900), 0, insert: false));
        Assert.Equal(0, b.Connections.Count);
    }

    [Fact]
    public void The_snapshot_for_a_bulk_answer_holds_every_live_entry_with_its_time_left()
    {
        var (a, _, _) = Setup(persistence: 100);
        a.ProcessOne(Tcp(44000, TcpFlags.Syn), _out, 1000, out _, out _);
        a.ProcessOne(Tcp(44001, TcpFlags.Syn), _out, 1000, out _, out _);
        var snap = a.SyncSnapshot(31_000);
        Assert.Equal(3, snap.Count);
        Assert.Equal(70u, snap.Single(r => r.IsTemplate).TimeoutSeconds);
        Assert.All(snap.Where(r => !r.IsTemplate), r => Assert.Equal((uint)(a.Timeouts[ConnState.SynRecv] / 1000 - 30), r.TimeoutSeconds));
    }
}
