using System.Buffers.Binary;
using TunLB.Core.Connections;
using TunLB.Core.DataPath;
using TunLB.Core.Flows;
using TunLB.Core.Model;
using TunLB.Core.Packets;

namespace TunLB.Core.Tests.DataPath;

public class DirectorEngineTests
{
    private const string Vip = "10.0.0.100";
    private const string Client = "203.0.113.7";
    private static readonly IpAddress Outer = IpAddress.Parse("192.168.1.1");

    private readonly Destination[] _dests;
    private VirtualService _svc;
    private readonly TestRoundRobinScheduler _sched = new();
    private readonly byte[] _out = new byte[2048];

    public DirectorEngineTests()
    {
        _dests =
        [
            NewDest(1, "192.168.1.11"),
            NewDest(2, "192.168.1.12"),
            NewDest(3, "192.168.1.13"),
        ];
        _svc = new VirtualService(new ServiceKey(IpAddress.Parse(Vip), 80, IpProtocol.Tcp), _sched, _dests);
    }

    /// <summary>The service with other persistence settings (services are immutable: a change is a new version).</summary>
    private void Persist(int seconds, int prefix = 32) =>
        _svc = new VirtualService(_svc.Key, _sched, _svc.Destinations, _svc.Stats) { PersistenceSeconds = seconds, PersistencePrefix = prefix };

    /// <summary>Publishes a new version of the service (other destinations, or weights changed) to <paramref name="e"/>.</summary>
    private void Republish(DirectorEngine e, Destination[]? dests = null)
    {
        _svc = new VirtualService(_svc.Key, _sched, dests ?? _svc.Destinations, _svc.Stats)
        {
            PersistenceSeconds = _svc.PersistenceSeconds, PersistencePrefix = _svc.PersistencePrefix,
        };
        e.SetServices([_svc]);
    }

    private static Destination NewDest(int id, string addr) =>
        new(id, IpAddress.Parse(addr), 80, 1) { OuterSource = Outer };

    private DirectorEngine NewEngine(DirectorEngineOptions? o = null, params VirtualService[] services)
    {
        var e = new DirectorEngine(o ?? new DirectorEngineOptions { ConnectionCapacity = 1024, HashSeed = 42 });
        e.SetServices(services.Length == 0 ? [_svc] : services);
        return e;
    }

    private DropReason Send(DirectorEngine e, byte[] packet, long now, out IpAddress nextHop) =>
        e.ProcessOne(packet, _out, now, out _, out nextHop);

    private IpAddress SendOk(DirectorEngine e, byte[] packet, long now)
    {
        Assert.Equal(DropReason.None, Send(e, packet, now, out var hop));
        return hop;
    }

    private static byte[] Syn(ushort port, string client = Client) => TestPackets.Tcp(client, port, Vip, 80, TcpFlags.Syn);
    private static byte[] Ack(ushort port, string client = Client) => TestPackets.Tcp(client, port, Vip, 80, TcpFlags.Ack);
    private static byte[] Fin(ushort port, string client = Client) => TestPackets.Tcp(client, port, Vip, 80, TcpFlags.Fin | TcpFlags.Ack);

    private Destination DestAt(IpAddress hop) => _dests.Single(d => d.Address == hop);

    [Fact]
    public void New_syn_creates_connection_and_emits_ipip()
    {
        var e = NewEngine();
        var pkt = TestPackets.Tcp(Client, 40000, Vip, 80, TcpFlags.Syn, payload: 10, ttl: 50, tos: 0x2A, dontFragment: true);

        Assert.Equal(DropReason.None, e.ProcessOne(pkt, _out, 1000, out int len, out var hop));

        Assert.Equal(pkt.Length + 20, len);
        var o = _out.AsSpan(0, len);
        Assert.Equal(0x45, o[0]);
        Assert.Equal(0x2A, o[1]);                                               // TOS copied
        Assert.Equal(len, BinaryPrimitives.ReadUInt16BigEndian(o.Slice(2)));
        Assert.Equal(0x4000, BinaryPrimitives.ReadUInt16BigEndian(o.Slice(6))); // DF copied, no fragment
        Assert.Equal(64, o[8]);                                                 // outer TTL
        Assert.Equal(IpProtocol.IpIp, o[9]);
        Assert.True(Checksum.IsValid(o.Slice(0, 20)));
        Assert.Equal(Outer, IpAddress.FromV4Bytes(o.Slice(12)));
        Assert.Equal(hop, IpAddress.FromV4Bytes(o.Slice(16)));
        Assert.True(o.Slice(20).SequenceEqual(pkt));                            // inner untouched (increment 0)

        var d = DestAt(hop);
        Assert.Equal(_dests[0], d);                                             // round robin starts at the first
        int ci = e.Connections.Find(new FlowKey(IpAddress.Parse(Client), IpAddress.Parse(Vip), 40000, 80, IpProtocol.Tcp));
        Assert.True(ci >= 0);
        ref var c = ref e.Connections[ci];
        Assert.Equal(ConnState.SynRecv, c.State);
        Assert.Equal(d.Id, c.DestinationId);
        Assert.Equal(1000 + 60_000, c.ExpiresAtMs);
        Assert.Equal(1, d.Connections);
        Assert.Equal(1, _svc.Connections);
        Assert.Equal(1, d.InPackets);
        Assert.Equal(pkt.Length, d.InBytes);
        Assert.Equal(pkt.Length, _svc.InBytes);
        Assert.Equal(1, e.ForwardedPackets);
    }

    [Fact]
    public void Outer_header_without_df_and_fresh_ip_ids_and_inner_ttl_restored()
    {
        var e = NewEngine(new DirectorEngineOptions { ConnectionCapacity = 64, HashSeed = 1, OuterTtl = 17, InnerTtlIncrement = 1 });
        var pkt = TestPackets.Tcp(Client, 40000, Vip, 80, TcpFlags.Syn, ttl: 63, dontFragment: false);
        Assert.Equal(DropReason.None, e.ProcessOne(pkt, _out, 0, out int len, out _));
        Assert.Equal(0, BinaryPrimitives.ReadUInt16BigEndian(_out.AsSpan(6)));
        Assert.Equal(17, _out[8]);
        Assert.Equal(64, _out[28]);                                             // inner TTL 63 + 1
        Assert.True(Checksum.IsValid(_out.AsSpan(20, 20)));                     // inner checksum fixed
        ushort id1 = BinaryPrimitives.ReadUInt16BigEndian(_out.AsSpan(4));

        Assert.Equal(DropReason.None, e.ProcessOne(Ack(40000), _out, 1, out _, out _));
        ushort id2 = BinaryPrimitives.ReadUInt16BigEndian(_out.AsSpan(4));
        Assert.Equal((ushort)(id1 + 1), id2);
    }

    [Fact]
    public void Output_too_small_is_TooBig()
    {
        var e = NewEngine();
        var pkt = Syn(40000);
        Assert.Equal(DropReason.TooBig, e.ProcessOne(pkt, new byte[pkt.Length + 19], 0, out int len, out _));
        Assert.Equal(0, len);
        Assert.Equal(1, e.Drops[(int)DropReason.TooBig]);
    }

    [Fact]
    public void Flow_sticks_to_its_destination_after_weights_change()
    {
        var e = NewEngine();
        var first = SendOk(e, Syn(40000), 0);
        foreach (var d in _dests) d.Weight = d.Address == first ? 1 : 100;
        Republish(e);
        for (int i = 1; i <= 5; i++)
            Assert.Equal(first, SendOk(e, Ack(40000), i));
        Assert.Equal(1, _sched.Calls);
        Assert.NotEqual(first, SendOk(e, Syn(40001), 10));                    // a new flow is scheduled
    }

    [Theory]
    [InlineData(TcpFlags.Ack)]
    [InlineData(TcpFlags.Fin | TcpFlags.Ack)]
    [InlineData(TcpFlags.Rst)]
    [InlineData(TcpFlags.Syn | TcpFlags.Rst)]
    public void Non_syn_without_connection_is_dropped_and_counted(byte flags)
    {
        var e = NewEngine();
        var pkt = TestPackets.Tcp(Client, 40000, Vip, 80, flags);
        Assert.Equal(DropReason.TcpNoConnection, Send(e, pkt, 0, out _));
        Assert.Equal(DropReason.TcpNoConnection, Send(e, pkt, 1, out _));
        Assert.Equal(2, e.Drops[(int)DropReason.TcpNoConnection]);
        Assert.Equal(0, e.Connections.Count);
        Assert.Equal(0, _sched.Calls);
    }

    [Fact]
    public void Sloppy_tcp_schedules_mid_flow_segments()
    {
        var e = NewEngine(new DirectorEngineOptions { ConnectionCapacity = 64, HashSeed = 1, SloppyTcp = true });
        var hop = SendOk(e, Ack(40000), 0);
        Assert.Equal(1, e.Connections.Count);
        int ci = e.Connections.Find(new FlowKey(IpAddress.Parse(Client), IpAddress.Parse(Vip), 40000, 80, 6));
        Assert.Equal(DestAt(hop).Id, e.Connections[ci].DestinationId);
        Assert.Equal(ConnState.Established, e.Connections[ci].State);
        Assert.Equal((1, 0), (DestAt(hop).ActiveConnections, DestAt(hop).InactiveConnections));
    }

    [Fact]
    public void Consistent_hash_scheduler_schedules_mid_flow_segments()
    {
        var sched = new TestRoundRobinScheduler { IsConsistentHash = true };
        var svc = new VirtualService(new ServiceKey(IpAddress.Parse(Vip), 80, IpProtocol.Tcp), sched, _dests);
        var e = NewEngine(null, svc);
        SendOk(e, Ack(40000), 0);
        Assert.Equal(1, sched.Calls);
        Assert.Equal(DropReason.TcpNoConnection, Send(e, TestPackets.Tcp(Client, 40001, Vip, 80, TcpFlags.Rst), 0, out _));
    }

    [Fact]
    public void Unknown_vip_port_or_protocol_is_NoService()
    {
        var e = NewEngine();
        Assert.Equal(DropReason.NoService, Send(e, TestPackets.Tcp(Client, 1, Vip, 81, TcpFlags.Syn), 0, out _));
        Assert.Equal(DropReason.NoService, Send(e, TestPackets.Tcp(Client, 1, "10.0.0.101", 80, TcpFlags.Syn), 0, out _));
        Assert.Equal(DropReason.NoService, Send(e, TestPackets.Udp(Client, 1, Vip, 80), 0, out _));
        Assert.Equal(3, e.Drops[(int)DropReason.NoService]);
        Assert.Equal(0, e.Connections.Count);
    }

    [Fact]
    public void Malformed_packet_is_counted_under_the_parser_reason()
    {
        var e = NewEngine();
        var pkt = Syn(40000);
        pkt[10] ^= 0xFF;                                                         // break the header checksum
        Assert.Equal(DropReason.BadChecksum, Send(e, pkt, 0, out _));
        Assert.Equal(1, e.Drops[(int)DropReason.BadChecksum]);
    }

    [Fact]
    public void Weight_zero_gets_no_new_flows_but_keeps_existing()
    {
        var e = NewEngine();
        var hops = new IpAddress[3];
        for (int i = 0; i < 3; i++) hops[i] = SendOk(e, Syn((ushort)(40000 + i)), 0);
        var quiesced = DestAt(hops[0]);
        quiesced.Weight = 0;
        Republish(e);

        for (int i = 0; i < 10; i++)
            Assert.NotEqual(quiesced.Address, SendOk(e, Syn((ushort)(41000 + i)), 1));
        Assert.Equal(quiesced.Address, SendOk(e, Ack(40000), 2));
        Assert.Equal(1, quiesced.ActiveConnections);

        foreach (var d in _dests) d.Weight = 0;
        Assert.Equal(DropReason.NoDestination, Send(e, Syn(42000), 3, out _));
        Assert.Equal(1, e.Drops[(int)DropReason.NoDestination]);
        Assert.Equal(quiesced.Address, SendOk(e, Ack(40000), 4));
    }

    [Fact]
    public void Active_and_inactive_counters_follow_states_and_expiry()
    {
        var e = NewEngine();
        var d = DestAt(SendOk(e, Syn(40000), 0));
        Assert.Equal((0, 1), (d.ActiveConnections, d.InactiveConnections));
        SendOk(e, Ack(40000), 1);
        Assert.Equal((1, 0), (d.ActiveConnections, d.InactiveConnections));
        SendOk(e, Ack(40000), 2);
        Assert.Equal((1, 0), (d.ActiveConnections, d.InactiveConnections));
        SendOk(e, Fin(40000), 3);
        Assert.Equal((0, 1), (d.ActiveConnections, d.InactiveConnections));
        int ci = e.Connections.Find(new FlowKey(IpAddress.Parse(Client), IpAddress.Parse(Vip), 40000, 80, 6));
        Assert.Equal(ConnState.FinWait, e.Connections[ci].State);
        Assert.Equal(3 + 120_000, e.Connections[ci].ExpiresAtMs);

        Assert.Equal(0, e.Expire(3 + 119_999, 1024));
        Assert.Equal(1, e.Expire(3 + 120_000, 1024));
        Assert.Equal((0, 0), (d.ActiveConnections, d.InactiveConnections));
        Assert.Equal(0, e.Connections.Count);
        Assert.Equal(DropReason.TcpNoConnection, Send(e, Ack(40000), 200_000, out _));
    }

    [Fact]
    public void Established_connection_expires_after_its_timeout_without_a_sweep()
    {
        var e = NewEngine();
        e.SetTimeouts(ConnTimeouts.Default.WithIpvsadmSet(30, 0, 0));
        var d = DestAt(SendOk(e, Syn(40000), 0));
        SendOk(e, Ack(40000), 1_000);
        SendOk(e, Ack(40000), 1_000 + 29_999);                                 // refreshes: now expires at 60_999
        SendOk(e, Ack(40000), 60_998);
        Assert.Equal(DropReason.TcpNoConnection, Send(e, Ack(40000), 60_998 + 30_000, out _));
        Assert.Equal((0, 0), (d.ActiveConnections, d.InactiveConnections));
        Assert.Equal(0, e.Connections.Count);
    }

    [Fact]
    public void Udp_flow_is_tracked_inactive_with_udp_timeout()
    {
        var svc = new VirtualService(new ServiceKey(IpAddress.Parse(Vip), 53, IpProtocol.Udp), _sched, _dests);
        var e = NewEngine(null, svc);
        var pkt = TestPackets.Udp(Client, 5353, Vip, 53);
        var hop = SendOk(e, pkt, 0);
        Assert.Equal(hop, SendOk(e, pkt, 299_999));
        var d = DestAt(hop);
        Assert.Equal((0, 1), (d.ActiveConnections, d.InactiveConnections));
        int ci = e.Connections.Find(new FlowKey(IpAddress.Parse(Client), IpAddress.Parse(Vip), 5353, 53, 17));
        Assert.Equal(ConnState.Udp, e.Connections[ci].State);
        Assert.Equal(299_999 + 300_000, e.Connections[ci].ExpiresAtMs);
        Assert.NotEqual(hop, SendOk(e, pkt, 299_999 + 300_000));             // expired: scheduled anew
        Assert.Equal((0, 0), (d.ActiveConnections, d.InactiveConnections));
    }

    [Fact]
    public void Deleted_destination_drops_ack_and_reschedules_syn()
    {
        var e = NewEngine();
        var d = DestAt(SendOk(e, Syn(40000), 0));
        SendOk(e, Ack(40000), 1);
        d.Alive = false;

        Assert.Equal(DropReason.DestinationGone, Send(e, Ack(40000), 2, out _));
        Assert.Equal(1, e.Drops[(int)DropReason.DestinationGone]);
        Assert.Equal(1, d.ActiveConnections);                                  // entry kept until a SYN or expiry

        var hop = SendOk(e, Syn(40000), 3);
        Assert.NotEqual(d.Address, hop);
        Assert.Equal((0, 0), (d.ActiveConnections, d.InactiveConnections));
        Assert.Equal((0, 1), (DestAt(hop).ActiveConnections, DestAt(hop).InactiveConnections));
        Assert.Equal(1, e.Connections.Count);
    }

    [Fact]
    public void Destination_removed_from_configuration_is_gone()
    {
        var e = NewEngine();
        var d = DestAt(SendOk(e, Syn(40000), 0));
        Republish(e, _dests.Where(x => x != d).ToArray());
        Assert.Null(e.FindDestination(d.Id));
        Assert.Equal(DropReason.DestinationGone, Send(e, Ack(40000), 1, out _));
        Assert.NotEqual(d.Address, SendOk(e, Syn(40000), 2));
    }

    [Fact]
    public void Persistence_maps_a_client_to_one_destination_and_expires()
    {
        Persist(300);
        var e = NewEngine();
        var first = SendOk(e, Syn(40000), 0);
        for (int i = 1; i < 5; i++)
            Assert.Equal(first, SendOk(e, Syn((ushort)(40000 + i)), i));       // round robin would rotate
        Assert.Equal(1, _sched.Calls);
        var d = DestAt(first);
        Assert.Equal(1, d.PersistentConnections);
        Assert.Equal(5, d.InactiveConnections);

        var other = SendOk(e, Syn(40000, client: "203.0.113.8"), 5);           // /32: another client
        Assert.NotEqual(first, other);

        // Template expiry is 300 s after the last connection it let through (t=4); SYN_RECV conns expire after 60 s.
        Assert.Equal(5, e.Expire(4 + 60_000, 1024));                            // the 5 conns of .7 (.8's lasts until 60_005)
        Assert.Equal(1, d.PersistentConnections);
        Assert.Equal(first, SendOk(e, Syn(50000), 4 + 299_999));                // template still valid: refreshed
        long due = 4 + 299_999 + 300_000;
        Assert.Equal(first, SendOk(e, Syn(50001), due - 1));                    // refreshed again
        due = due - 1 + 300_000;

        // Its connections have timed out but are not swept yet: they still hold the template.
        Assert.Equal(first, SendOk(e, Syn(50002), due));
        due += 300_000;
        e.Expire(due, 1024);                                                    // the worker's periodic sweeps
        e.Expire(due, 1024);                                                    // (a template may need a second pass)
        Assert.Equal(0, d.PersistentConnections);
        var after = SendOk(e, Syn(50003), due);
        Assert.Equal(3, _sched.Calls);                                          // first, 203.0.113.8, this one
        Assert.NotEqual(first, after);
        long later = due;

        e.Expire(later + 1_000_000, 1024);
        Assert.Equal(0, e.Connections.Count);
        foreach (var x in _dests)
            Assert.Equal((0, 0, 0), (x.ActiveConnections, x.InactiveConnections, x.PersistentConnections));
    }

    [Fact]
    public void Persistence_prefix_24_groups_a_client_network()
    {
        Persist(60, 24);
        var e = NewEngine();
        var a = SendOk(e, Syn(1000, "198.51.100.5"), 0);
        Assert.Equal(a, SendOk(e, Syn(1001, "198.51.100.77"), 1));
        Assert.Equal(a, SendOk(e, Syn(1002, "198.51.100.254"), 2));
        Assert.NotEqual(a, SendOk(e, Syn(1003, "198.51.101.5"), 3));
        Assert.Equal(2, _sched.Calls);
        Assert.Equal(2, e.Connections.EnumerateEntries().Count(c => c.State == ConnState.Template));
    }

    [Fact]
    public void Template_outlives_its_timeout_while_it_controls_connections()
    {
        Persist(300);
        var e = NewEngine();
        var first = SendOk(e, Syn(40000), 0);
        SendOk(e, Ack(40000), 1);                                               // ESTABLISHED: 900 s
        SendOk(e, Ack(40000), 400_000);
        e.Expire(400_000, 1024);                                                // template is due but controls a conn
        Assert.Equal(2, e.Connections.Count);
        Assert.Equal(first, SendOk(e, Syn(40001), 400_001));
        Assert.Equal(1, _sched.Calls);
    }

    [Fact]
    public void Persistent_client_is_rescheduled_when_its_destination_dies()
    {
        Persist(300);
        var e = NewEngine();
        var d = DestAt(SendOk(e, Syn(40000), 0));
        d.Alive = false;
        var hop = SendOk(e, Syn(40001), 1);
        Assert.NotEqual(d.Address, hop);
        Assert.Equal(hop, SendOk(e, Syn(40002), 2));                            // template rebound
        Assert.Equal(0, d.PersistentConnections);
        Assert.Equal(1, DestAt(hop).PersistentConnections);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Quiescent_template_follows_ExpireQuiescentTemplate(bool expireQuiescent)
    {
        Persist(300);
        var e = NewEngine(new DirectorEngineOptions { ConnectionCapacity = 64, HashSeed = 1, ExpireQuiescentTemplate = expireQuiescent });
        var d = DestAt(SendOk(e, Syn(40000), 0));
        d.Weight = 0;
        var hop = SendOk(e, Syn(40001), 1);
        Assert.Equal(expireQuiescent, hop != d.Address);
    }

    [Fact]
    public void Full_table_refuse_drops_new_flows_and_counts()
    {
        var e = NewEngine(new DirectorEngineOptions { ConnectionCapacity = 2, FullTablePolicy = FullTablePolicy.Refuse, HashSeed = 1 });
        SendOk(e, Syn(1), 0);
        SendOk(e, Syn(2), 0);
        Assert.Equal(DropReason.ConnTableFull, Send(e, Syn(3), 0, out _));
        Assert.Equal(1, e.Drops[(int)DropReason.ConnTableFull]);
        Assert.Equal(1, e.Connections.Refusals);
        SendOk(e, Ack(1), 1);                                                   // existing flows go on
        Assert.Equal(2, _dests.Sum(d => d.InactiveConnections + d.ActiveConnections));
    }

    [Fact]
    public void Full_table_evict_oldest_replaces_and_fixes_counters()
    {
        var e = NewEngine(new DirectorEngineOptions { ConnectionCapacity = 2, FullTablePolicy = FullTablePolicy.EvictOldest, HashSeed = 1 });
        var d1 = DestAt(SendOk(e, Syn(1), 0));
        SendOk(e, Syn(2), 1);
        SendOk(e, Ack(1), 2);                                                   // flow 1 is now the most recent
        SendOk(e, Syn(3), 3);                                                   // evicts flow 2
        Assert.Equal(1, e.Connections.Evictions);
        Assert.Equal(0, e.Drops[(int)DropReason.ConnTableFull]);
        Assert.Equal(DropReason.TcpNoConnection, Send(e, Ack(2), 4, out _));
        Assert.Equal(d1.Address, SendOk(e, Ack(1), 5));
        Assert.Equal(2, _dests.Sum(d => d.InactiveConnections + d.ActiveConnections));
    }

    [Fact]
    public void Services_can_be_replaced_while_flows_continue()
    {
        var e = NewEngine();
        var hop = SendOk(e, Syn(40000), 0);
        var svc2 = new VirtualService(new ServiceKey(IpAddress.Parse(Vip), 443, IpProtocol.Tcp), new TestRoundRobinScheduler(),
            [NewDest(10, "192.168.1.20")]);
        e.SetServices([_svc, svc2]);
        Assert.Equal(hop, SendOk(e, Ack(40000), 1));
        Assert.Equal(IpAddress.Parse("192.168.1.20"), SendOk(e, TestPackets.Tcp(Client, 1, Vip, 443, TcpFlags.Syn), 2));
        Assert.Throws<ArgumentException>(() => e.SetServices([_svc, _svc]));
    }
}
