using System.Buffers.Binary;
using TunLB.Core.Connections;
using TunLB.Core.DataPath;
using TunLB.Core.Flows;
using TunLB.Core.Model;
using TunLB.Core.Packets;
using static TunLB.Core.Tests.DataPath.WirePackets;

namespace TunLB.Core.Tests.DataPath;

/// <summary>Several engines (one per data-path worker) sharing services and destinations.</summary>
public class MultiWorkerEngineTests
{
    private const string Vip = "203.0.113.10", Client = "198.51.100.10", Router = "198.18.0.1";
    private static readonly IpAddress Outer = IpAddress.Parse("192.0.2.1");

    private readonly Destination[] _dests = [Dest(1, "192.0.2.11"), Dest(2, "192.0.2.12"), Dest(3, "192.0.2.13")];
    private VirtualService _web;
    private readonly VirtualService _dns;
    private readonly EngineOutput _batch = new();

    public MultiWorkerEngineTests()
    {
        _web = new VirtualService(new ServiceKey(IpAddress.Parse(Vip), 80, IpProtocol.Tcp), new TestRoundRobinScheduler(), _dests);
        _dns = new VirtualService(new ServiceKey(IpAddress.Parse(Vip), 53, IpProtocol.Udp), new TestRoundRobinScheduler(), _dests);
    }

    private static Destination Dest(int id, string addr) => new(id, IpAddress.Parse(addr), 0, 1) { OuterSource = Outer };

    private DirectorEngine[] Engines(int n, int capacity = 1024)
    {
        var engines = new DirectorEngine[n];
        for (int w = 0; w < n; w++)
        {
            engines[w] = new DirectorEngine(new DirectorEngineOptions
            {
                ConnectionCapacity = capacity, HashSeed = 42, WorkerIndex = w, WorkerCount = n,
            });
            engines[w].SetServices([_web, _dns]);
        }
        foreach (var e in engines) e.SetPeers(engines);
        return engines;
    }

    private IpAddress Hop(DirectorEngine e, byte[] packet, long now = 0)
    {
        Assert.Equal(DropReason.None, e.ProcessInto(packet, _batch, now));
        Assert.True(_batch.Count >= 1);
        return _batch.Packets[0].NextHop;
    }

    private Destination DestAt(IpAddress hop) => _dests.Single(d => d.Address == hop);

    private static byte[] Syn(ushort port) => TestPackets.Tcp(Client, port, Vip, 80, TcpFlags.Syn);
    private static byte[] Ack(ushort port) => TestPackets.Tcp(Client, port, Vip, 80, TcpFlags.Ack);

    [Fact]
    public void Options_are_checked()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new DirectorEngine(new DirectorEngineOptions { WorkerIndex = -1 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new DirectorEngine(new DirectorEngineOptions { WorkerIndex = WorkerStatsSet.MaxWorkers, WorkerCount = 2 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new DirectorEngine(new DirectorEngineOptions { WorkerCount = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new DirectorEngine(new DirectorEngineOptions { WorkerCount = WorkerStatsSet.MaxWorkers + 1 }));
    }

    [Fact]
    public void Per_packet_counters_go_to_each_workers_slot_and_the_properties_sum_them()
    {
        var e = Engines(2);
        var d0 = DestAt(Hop(e[0], Syn(1000)));
        Hop(e[0], Ack(1000));
        var d1 = DestAt(Hop(e[1], Syn(2000)));
        Assert.NotSame(d0, d1);

        Assert.Equal(2, d0.Stats.Slot(0).InPackets);
        Assert.Equal(0, d0.Stats.Slot(1).InPackets);
        Assert.Equal(1, d1.Stats.Slot(1).InPackets);
        Assert.Equal(3, _web.InPackets);
        Assert.Equal(2, _web.Stats.Slot(0).InPackets);
        Assert.Equal(1, _web.Stats.Slot(1).InPackets);
        Assert.Equal(2, _web.Connections);
        Assert.Equal(3 * 40, _web.InBytes);
        Assert.Equal(1, d0.Connections);
        Assert.Equal(1, d1.Connections);

        // Zeroing is per worker (each worker zeroes its own slot on its own thread).
        _web.Stats.Zero(0);
        Assert.Equal(1, _web.InPackets);
        Assert.Equal(1, _web.Connections);
        // The setter sets the total (tests, tools).
        _web.InPackets = 5;
        Assert.Equal(5, _web.InPackets);
        Assert.Equal(0, _web.Stats.Slot(1).InPackets);
    }

    [Fact]
    public void Connection_counters_stay_exact_when_workers_change_them_concurrently()
    {
        var e = Engines(2, capacity: 8192);
        const int Flows = 20_000;
        var threads = Enumerable.Range(0, 2).Select(w => new Thread(() =>
        {
            var batch = new EngineOutput();
            for (int i = 0; i < Flows; i++)
            {
                // Distinct client ports per worker; SYN, ACK (active), FIN (inactive), evictions in a full table.
                ushort port = (ushort)(1024 + (w * Flows + i) % 60000);
                e[w].ProcessInto(TestPackets.Tcp(w == 0 ? Client : "198.51.100.11", port, Vip, 80, TcpFlags.Syn), batch, i);
                e[w].ProcessInto(TestPackets.Tcp(w == 0 ? Client : "198.51.100.11", port, Vip, 80, TcpFlags.Ack), batch, i);
                if (i % 3 == 0) e[w].ProcessInto(TestPackets.Tcp(w == 0 ? Client : "198.51.100.11", port, Vip, 80, TcpFlags.Fin | TcpFlags.Ack), batch, i);
            }
        })).ToArray();
        foreach (var t in threads) t.Start();
        foreach (var t in threads) t.Join();

        int entries = e.Sum(x => x.Connections.Count);
        Assert.Equal(entries, _dests.Sum(d => d.ActiveConnections + d.InactiveConnections));
        Assert.Equal(2 * Flows, _web.Connections);
        foreach (var x in e) x.Expire(long.MaxValue / 2, x.Connections.Capacity);
        Assert.All(_dests, d => Assert.Equal((0, 0), (d.ActiveConnections, d.InactiveConnections)));
    }

    [Fact]
    public void Udp_first_fragment_on_another_worker_follows_the_flow_there()
    {
        var e = Engines(2);
        // Small datagrams of the flow are queued on worker 0 (4-tuple hash)...
        var small = TestPackets.Udp(Client, 5000, Vip, 53, payload: 100);
        var owner = Hop(e[0], small);
        // ...the fragments of a big datagram of the same flow on worker 1 (the kernel hashes fragments by addresses).
        var big = TestPackets.Udp(Client, 5000, Vip, 53, payload: 4000, id: 0x7777);
        var frags = FragmentV4(big, 1480);
        foreach (var f in frags) Assert.Equal(owner, Hop(e[1], f));
        Assert.Equal(1, e[1].PeerAdopted);
        Assert.Equal(1, _dns.Connections);               // one flow, scheduled once
        Assert.Equal(1, e[1].Connections.Count);         // worker 1 now holds its own entry for the flow
        // Later datagrams on either worker stay with the same server.
        Assert.Equal(owner, Hop(e[0], small, 10));
        var big2 = FragmentV4(TestPackets.Udp(Client, 5000, Vip, 53, payload: 4000, id: 0x7778), 1480);
        Assert.Equal(owner, Hop(e[1], big2[0], 10));
    }

    [Fact]
    public void Udp_datagram_follows_a_flow_that_started_with_fragments_on_another_worker()
    {
        var e = Engines(2);
        var frags = FragmentV4(TestPackets.Udp(Client, 5001, Vip, 53, payload: 4000, id: 0x1111), 1480);
        var owner = Hop(e[1], frags[0]);
        for (int i = 1; i < frags.Count; i++) Assert.Equal(owner, Hop(e[1], frags[i]));
        Assert.Equal(owner, Hop(e[0], TestPackets.Udp(Client, 5001, Vip, 53, payload: 10)));
        Assert.Equal(1, e[0].PeerAdopted);
    }

    [Fact]
    public void Icmp_error_on_another_worker_goes_to_the_flows_server()
    {
        var e = Engines(2);
        var owner = Hop(e[0], Syn(40001));
        var reply = TestPackets.Tcp(Vip, 80, Client, 40001, TcpFlags.Ack, payload: 1400);
        Span<byte> rest = stackalloc byte[4];
        BinaryPrimitives.WriteUInt16BigEndian(rest.Slice(2), 1400);
        var icmp = Icmpv4(Router, Vip, 3, 4, rest, reply.AsSpan(0, 28));
        Assert.Equal(owner, Hop(e[1], icmp));
        Assert.Equal(1, e[1].IcmpForwarded);
        Assert.Equal(0, e[1].Connections.Count); // an ICMP error creates no entry
        Assert.Equal(DropReason.IcmpNoFlow, e[1].ProcessInto(Icmpv4(Router, Vip, 3, 4, rest,
            TestPackets.Tcp(Vip, 80, Client, 40002, TcpFlags.Ack).AsSpan(0, 28)), _batch, 0));
    }

    [Fact]
    public void Syn_is_scheduled_afresh_but_a_mid_flow_segment_is_adopted()
    {
        var e = Engines(2);
        var owner = Hop(e[0], Syn(3000));
        // A mid-flow segment landing on the other worker follows the flow (instead of tcp_no_connection).
        Assert.Equal(owner, Hop(e[1], Ack(3000)));
        Assert.Equal(1, e[1].PeerAdopted);
        // A SYN is a new connection: scheduled by worker 1's own decision, never looked up in worker 0's table.
        var sched = (TestRoundRobinScheduler)_web.Scheduler;
        int calls = sched.Calls;
        Hop(e[1], Syn(3001));
        Assert.Equal(calls + 1, sched.Calls);
        Assert.Equal(1, e[1].PeerAdopted);
    }

    [Fact]
    public void A_single_engine_has_no_peers_and_drops_unknown_mid_flow_segments()
    {
        var e = Engines(1);
        Assert.Equal(DropReason.TcpNoConnection, e[0].ProcessInto(Ack(4000), _batch, 0));
        Assert.Equal(0, e[0].PeerAdopted);
    }

    [Fact]
    public void A_peer_entry_for_a_server_that_is_gone_is_not_adopted()
    {
        var e = Engines(2);
        var owner = DestAt(Hop(e[0], TestPackets.Udp(Client, 6000, Vip, 53)));
        owner.Alive = false;
        var hop = Hop(e[1], TestPackets.Udp(Client, 6000, Vip, 53));
        Assert.NotEqual(owner.Address, hop);
        Assert.Equal(0, e[1].PeerAdopted);
    }

    [Fact]
    public void Persistence_template_of_another_worker_is_followed()
    {
        var e = Engines(2);
        _web = new VirtualService(_web.Key, _web.Scheduler, _web.Destinations, _web.Stats) { PersistenceSeconds = 300 };
        foreach (var engine in e) engine.SetServices([_web, _dns]);
        var owner = Hop(e[0], Syn(5000));
        // The same client's next connections (other source ports) are queued on the other worker: they follow the
        // template worker 0 created instead of the scheduler's next pick.
        for (ushort p = 5001; p < 5005; p++) Assert.Equal(owner, Hop(e[1], Syn(p), 10));
        Assert.Equal(1, e[1].PeerAdopted);                 // worker 1 adopted once, then has its own template
        Assert.Equal(2, _dests.Sum(d => d.PersistentConnections)); // one template per worker
        Assert.Equal(5, _web.Connections);
    }

    [Fact]
    public void Peek_of_a_template_needs_a_live_template()
    {
        var t = new ConnectionTable(16, hashSeed: 5);
        var o = new NoObserver();
        var key = new FlowKey(IpAddress.Parse(Client), IpAddress.Parse(Vip), IpProtocol.Tcp, 80, 0);
        int i = t.Add(key, 0, ref o);
        t[i].DestinationId = 2;
        t[i].ExpiresAtMs = 100;
        Assert.False(t.TryPeekTemplate(key, 0, out _));   // not a template
        t[i].State = ConnState.Template;
        Assert.True(t.TryPeekTemplate(key, 50, out int d));
        Assert.Equal(2, d);
        Assert.False(t.TryPeek(key, 50, out _));           // the connection peek never returns templates
        Assert.False(t.TryPeekTemplate(key, 100, out _));  // expired and controlling nothing
    }

    private struct NoObserver : IConnectionObserver
    {
        public void OnRemoved(ref ConnEntry entry) { }
    }
}
