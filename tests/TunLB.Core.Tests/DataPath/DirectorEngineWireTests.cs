using System.Buffers.Binary;
using TunLB.Core.DataPath;
using TunLB.Core.Flows;
using TunLB.Core.Model;
using TunLB.Core.Packets;
using static TunLB.Core.Tests.DataPath.WirePackets;

namespace TunLB.Core.Tests.DataPath;

/// <summary>ICMP, path MTU, fragments, IPv6 and GUE in the director engine.</summary>
public class DirectorEngineWireTests
{
    private const string Vip = "10.0.0.100", Client = "203.0.113.7", Router = "198.18.0.1";
    private const string Vip6 = "2001:db8:100::10", Client6 = "2001:db8:c::7";
    private static readonly IpAddress Outer = IpAddress.Parse("192.168.1.1");
    private static readonly IpAddress Outer6 = IpAddress.Parse("2001:db8:d::1");

    private readonly Destination[] _dests;
    private readonly Destination[] _dests6;
    private readonly EngineOutput _batch = new();

    public DirectorEngineWireTests()
    {
        _dests = [Dest(1, "192.168.1.11"), Dest(2, "192.168.1.12"), Dest(3, "192.168.1.13")];
        _dests6 = [Dest(11, "2001:db8:d::11"), Dest(12, "192.168.1.21")];
    }

    private static Destination Dest(int id, string addr)
    {
        var a = IpAddress.Parse(addr);
        return new Destination(id, a, 80, 1) { OuterSource = a.IsV4 ? Outer : Outer6 };
    }

    private DirectorEngine Engine(DirectorEngineOptions? o = null)
    {
        var e = new DirectorEngine(o ?? new DirectorEngineOptions { ConnectionCapacity = 1024, HashSeed = 42 });
        e.SetServices(
        [
            new VirtualService(new ServiceKey(IpAddress.Parse(Vip), 80, IpProtocol.Tcp), new TestRoundRobinScheduler(), _dests),
            new VirtualService(new ServiceKey(IpAddress.Parse(Vip), 53, IpProtocol.Udp), new TestRoundRobinScheduler(), _dests),
            new VirtualService(new ServiceKey(IpAddress.Parse(Vip), 5353, IpProtocol.Udp), new TestRoundRobinScheduler(), [Dest(9, "192.168.1.19")]),
            new VirtualService(new ServiceKey(IpAddress.Parse(Vip6), 80, IpProtocol.Tcp), new TestRoundRobinScheduler(), _dests6),
        ]);
        return e;
    }

    private static byte[] Syn(ushort port, string client = Client, bool df = true, int payload = 0) =>
        TestPackets.Tcp(client, port, Vip, 80, TcpFlags.Syn, payload: payload, dontFragment: df);

    private static byte[] Ack(ushort port, int payload, bool df) =>
        TestPackets.Tcp(Client, port, Vip, 80, TcpFlags.Ack, payload: payload, dontFragment: df);

    private static IpAddress V4Dst(ReadOnlySpan<byte> p) => IpAddress.FromV4Bytes(p.Slice(16));

    /// <summary>An ICMP error from a router to the VIP quoting a reply VIP:80 -> client:port.</summary>
    private static byte[] IcmpErrorFor(ushort clientPort, byte type = 3, byte code = 4, ushort mtu = 1400)
    {
        var reply = TestPackets.Tcp(Vip, 80, Client, clientPort, TcpFlags.Ack, payload: 1400);
        Span<byte> rest = stackalloc byte[4];
        BinaryPrimitives.WriteUInt16BigEndian(rest.Slice(2), mtu);
        return Icmpv4(Router, Vip, type, code, rest, reply.AsSpan(0, 28));
    }

    // ------------------------------------------------------------------ ICMP

    [Theory]
    [InlineData(3, 4)]   // frag-needed
    [InlineData(3, 3)]   // port unreachable
    [InlineData(11, 0)]  // time exceeded
    public void Icmp_error_for_a_live_flow_goes_unchanged_to_that_flows_real_server(byte type, byte code)
    {
        var e = Engine();
        for (ushort p = 40000; p < 40003; p++) Assert.Equal(DropReason.None, e.ProcessInto(Syn(p), _batch, 0)); // one flow per server
        var icmp = IcmpErrorFor(40001, type, code);
        Assert.Equal(DropReason.None, e.ProcessInto(icmp, _batch, 1));
        Assert.Equal(1, _batch.Count);
        var o = _batch[0];
        Assert.Equal(_dests[1].Address, _batch.Packets[0].NextHop);          // 40001 went to the second server
        Assert.Equal(_dests[1].Address, V4Dst(o));
        Assert.Equal(IpProtocol.IpIp, o[9]);
        Assert.True(o.Slice(20).SequenceEqual(icmp));
        Assert.Equal(1, e.IcmpForwarded);
    }

    [Fact]
    public void Icmp_error_without_a_flow_or_with_a_bad_quote_is_dropped_and_counted()
    {
        var e = Engine();
        Assert.Equal(DropReason.IcmpNoFlow, e.ProcessInto(IcmpErrorFor(41000), _batch, 1));
        Assert.Equal(0, _batch.Count);
        Assert.Equal(1, e.Drops[(int)DropReason.IcmpNoFlow]);

        var bad = IcmpErrorFor(41000);
        bad[22] ^= 0xFF;                                                    // ICMP checksum
        Assert.Equal(DropReason.BadIcmp, e.ProcessInto(bad, _batch, 1));
        var cut = Icmpv4(Router, Vip, 3, 4, new byte[4], TestPackets.Tcp(Vip, 80, Client, 1, 0).AsSpan(0, 24)); // quote < header + 8
        Assert.Equal(DropReason.BadIcmp, e.ProcessInto(cut, _batch, 1));
        Assert.Equal(DropReason.IcmpUnsupported, e.ProcessInto(Icmpv4(Router, Vip, 5, 1, new byte[4], new byte[28]), _batch, 1)); // redirect
        Assert.Equal(DropReason.NoService, e.ProcessInto(Icmpv4(Router, "10.0.0.99", 8, 0, new byte[4], new byte[8]), _batch, 1));
    }

    [Fact]
    public void Echo_request_to_a_vip_is_answered_from_the_vip()
    {
        var e = Engine();
        var req = Icmpv4(Client, Vip, 8, 0, [0x12, 0x34, 0x00, 0x07], "abcdefgh"u8);
        Assert.Equal(DropReason.None, e.ProcessInto(req, _batch, 0));
        Assert.Equal(1, _batch.Count);
        Assert.Equal(OutputKind.Reply, _batch.Packets[0].Kind);
        Assert.Equal(IpAddress.Parse(Client), _batch.Packets[0].NextHop);
        var r = _batch[0].ToArray();
        Assert.Equal(DropReason.UnsupportedProtocol, PacketParser.ParseIPv4(r, out var info));
        Assert.Equal(IpAddress.Parse(Vip), info.Flow.Source);
        Assert.Equal(IpAddress.Parse(Client), info.Flow.Destination);
        Assert.Equal(0, r[20]);                                             // echo reply
        Assert.True(Checksum.IsValid(r.AsSpan(20)));
        Assert.True(r.AsSpan(24).SequenceEqual(req.AsSpan(24)));             // id, seq, data echoed

        var off = Engine(new DirectorEngineOptions { ConnectionCapacity = 64, AnswerPing = false });
        Assert.Equal(DropReason.IcmpUnsupported, off.ProcessInto(req, _batch, 0));
        Assert.Equal(0, _batch.Count);
    }

    [Fact]
    public void Generated_icmp_is_rate_limited_with_the_clock_passed_in()
    {
        var e = Engine(new DirectorEngineOptions { ConnectionCapacity = 64, IcmpRatePerSecond = 10, IcmpBurst = 3 });
        var req = Icmpv4(Client, Vip, 8, 0, [0, 1, 0, 1], default);
        for (int i = 0; i < 3; i++) Assert.Equal(DropReason.None, e.ProcessInto(req, _batch, 1000));
        Assert.Equal(DropReason.IcmpRateLimited, e.ProcessInto(req, _batch, 1000));
        Assert.Equal(DropReason.IcmpRateLimited, e.ProcessInto(req, _batch, 1099));  // 0.99 token
        Assert.Equal(DropReason.None, e.ProcessInto(req, _batch, 1100));             // 10/s: one more after 100 ms
        Assert.Equal(2, e.Drops[(int)DropReason.IcmpRateLimited]);
    }

    // ------------------------------------------------------------------ path MTU

    [Theory]
    [InlineData(EncapKind.Ipip, 20)]
    [InlineData(EncapKind.Gue, 32)]
    public void Df_packet_beyond_the_real_servers_mtu_gets_frag_needed_with_mtu_minus_overhead(EncapKind kind, int overhead)
    {
        var e = Engine();
        foreach (var d in _dests) { d.Mtu = 1400; d.Encap = kind; }
        Assert.Equal(DropReason.None, e.ProcessInto(Syn(40000), _batch, 0));
        var big = Ack(40000, 1400 - overhead - 40 + 1, df: true);              // one byte too many
        Assert.Equal(DropReason.FragNeeded, e.ProcessInto(big, _batch, 1));
        Assert.Equal(1, _batch.Count);
        Assert.Equal(OutputKind.Reply, _batch.Packets[0].Kind);
        var r = _batch[0].ToArray();
        Assert.True(Checksum.IsValid(r.AsSpan(0, 20)));
        Assert.Equal(IpAddress.Parse(Vip), IpAddress.FromV4Bytes(r.AsSpan(12)));
        Assert.Equal(IpAddress.Parse(Client), IpAddress.FromV4Bytes(r.AsSpan(16)));
        Assert.Equal(IpProtocol.Icmp, r[9]);
        Assert.Equal(3, r[20]);
        Assert.Equal(4, r[21]);
        Assert.Equal(1400 - overhead, BinaryPrimitives.ReadUInt16BigEndian(r.AsSpan(26)));
        Assert.True(Checksum.IsValid(r.AsSpan(20)));
        Assert.True(r.AsSpan(28).SequenceEqual(big.AsSpan(0, 28)));          // IP header + 8 bytes quoted
        Assert.Equal(56, r.Length);
        Assert.Equal(1, e.Drops[(int)DropReason.FragNeeded]);

        // Exactly at the MTU it passes.
        Assert.Equal(DropReason.None, e.ProcessInto(Ack(40000, 1400 - overhead - 40, df: true), _batch, 2));
        Assert.Equal(1400, _batch.Packets[0].Length);
    }

    [Theory]
    [InlineData(EncapKind.Ipip, 1400)]
    [InlineData(EncapKind.Gue, 1400)]
    [InlineData(EncapKind.Ipip, 576)]
    public void Packet_without_df_beyond_the_mtu_is_sent_as_outer_fragments(EncapKind kind, int mtu)
    {
        var e = Engine();
        foreach (var d in _dests) { d.Mtu = mtu; d.Encap = kind; }
        Assert.Equal(DropReason.None, e.ProcessInto(Syn(40000, df: false), _batch, 0));
        var whole = new byte[9000];
        var big = Ack(40000, 4000, df: false);
        int wholeLen = Tunnel.Encapsulate(big, whole, Outer, _dests[0].Address, kind, 0, 6080, false, 64, 0, 0);

        Assert.Equal(DropReason.None, e.ProcessInto(big, _batch, 1));
        Assert.True(_batch.Count >= 2);
        var frags = new List<byte[]>();
        for (int i = 0; i < _batch.Count; i++)
        {
            var f = _batch[i].ToArray();
            Assert.True(f.Length <= mtu);
            Assert.True(Checksum.IsValid(f.AsSpan(0, 20)));
            Assert.Equal(_dests[0].Address, _batch.Packets[i].NextHop);
            Assert.Equal(BinaryPrimitives.ReadUInt16BigEndian(_batch[0].Slice(4)), BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(4))); // same id
            Assert.Equal(0, f[6] & 0x40);                                     // DF clear
            frags.Add(f);
        }
        // The reassembled outer payload is the encapsulation of the whole packet (UDP source port aside).
        var payload = ReassembleV4(frags);
        Assert.Equal(wholeLen - 20, payload.Length);
        int skip = kind == EncapKind.Gue ? 2 : 0;
        Assert.True(payload.AsSpan(skip).SequenceEqual(whole.AsSpan(20 + skip, wholeLen - 20 - skip)));
        Assert.Equal(_batch.Count, e.OuterFragments);
    }

    // ------------------------------------------------------------------ fragments

    [Fact]
    public void Every_fragment_of_a_datagram_reaches_the_first_fragments_server()
    {
        var e = Engine();
        for (int dgram = 0; dgram < 9; dgram++)
        {
            var udp = Ipv4(IpProtocol.Udp, Client, Vip, Udp((ushort)(50000 + dgram), 53, 3000), id: (ushort)(100 + dgram));
            var frags = FragmentV4(udp, 1480);
            Assert.Equal(3, frags.Count);
            if (dgram % 3 == 2) (frags[0], frags[2]) = (frags[2], frags[0]); // some trains arrive last-first
            var hops = new HashSet<IpAddress>();
            foreach (var f in frags)
            {
                Assert.Equal(DropReason.None, e.ProcessInto(f, _batch, dgram));
                hops.Add(_batch.Packets[0].NextHop);
            }
            Assert.Single(hops);
        }
    }

    [Fact]
    public void Overlapping_and_oversized_fragments_are_dropped()
    {
        var e = Engine();
        var udp = Ipv4(IpProtocol.Udp, Client, Vip, Udp(50000, 53, 3000), id: 7);
        var frags = FragmentV4(udp, 1480);
        Assert.Equal(DropReason.None, e.ProcessInto(frags[0], _batch, 0));
        Assert.Equal(DropReason.None, e.ProcessInto(frags[1], _batch, 0));
        Assert.Equal(DropReason.FragmentOverlap, e.ProcessInto(frags[1], _batch, 0));   // duplicate/overlap
        var overlapping = Ipv4(IpProtocol.Udp, Client, Vip, new byte[64], id: 7, mf: true, fragOffset: 1480 + 1472);
        Assert.Equal(DropReason.FragmentOverlap, e.ProcessInto(overlapping, _batch, 0));
        Assert.Equal(DropReason.None, e.ProcessInto(frags[2], _batch, 0));
        var death = Ipv4(IpProtocol.Udp, Client, Vip, new byte[100], id: 8, fragOffset: 65480);
        Assert.Equal(DropReason.FragmentOversized, e.ProcessInto(death, _batch, 0));
        Assert.Equal(2, e.Drops[(int)DropReason.FragmentOverlap]);
    }

    [Fact]
    public void Orphan_fragments_use_a_hash_of_the_addresses_over_the_lowest_port_service()
    {
        var e = Engine();
        var hops = new HashSet<IpAddress>();
        for (ushort id = 1; id < 40; id++)
        {
            var f = Ipv4(IpProtocol.Udp, Client, Vip, new byte[64], id: id, fragOffset: 1480);
            Assert.Equal(DropReason.None, e.ProcessInto(f, _batch, 0));
            hops.Add(_batch.Packets[0].NextHop);
        }
        Assert.Single(hops);                          // same (src, dst, proto): same server, from the port-53 service
        Assert.Contains(hops.Single(), _dests.Select(d => d.Address));
        var noService = Ipv4(IpProtocol.Tcp, Client, "10.0.0.99", new byte[64], id: 1, fragOffset: 1480);
        Assert.Equal(DropReason.NoService, e.ProcessInto(noService, _batch, 0));
    }

    // ------------------------------------------------------------------ IPv6 and GUE

    private static byte[] Syn6(ushort port, int payload = 0) => Ipv6(IpProtocol.Tcp, Client6, Vip6, Tcp(port, 80, TcpFlags.Syn, payload));

    [Fact]
    public void Ipv6_vip_is_carried_in_ipv6_to_an_ipv6_server_and_in_protocol_41_to_an_ipv4_server()
    {
        var e = Engine();
        var syn = Syn6(40000);
        Assert.Equal(DropReason.None, e.ProcessInto(syn, _batch, 0));
        var o = _batch[0];
        Assert.True(_batch.Packets[0].IsV6);
        Assert.Equal(0x60, o[0] & 0xF0);
        Assert.Equal(IpProtocol.Ipv6, o[6]);                                   // 6in6: next header 41
        Assert.Equal(syn.Length, BinaryPrimitives.ReadUInt16BigEndian(o.Slice(4)));
        Assert.Equal(Outer6, IpAddress.FromV6Bytes(o.Slice(8)));
        Assert.Equal(_dests6[0].Address, IpAddress.FromV6Bytes(o.Slice(24)));
        Assert.True(o.Slice(40).SequenceEqual(syn));

        var syn2 = Syn6(40001);
        Assert.Equal(DropReason.None, e.ProcessInto(syn2, _batch, 0));
        o = _batch[0];
        Assert.False(_batch.Packets[0].IsV6);
        Assert.Equal(IpProtocol.Ipv6, o[9]);                                   // 6in4: protocol 41
        Assert.Equal(0x4000, BinaryPrimitives.ReadUInt16BigEndian(o.Slice(6)));  // DF for IPv6 inside
        Assert.True(o.Slice(20).SequenceEqual(syn2));
    }

    [Fact]
    public void Ipv4_vip_over_an_ipv6_server_uses_next_header_4()
    {
        var e = new DirectorEngine(new DirectorEngineOptions { ConnectionCapacity = 64, HashSeed = 1 });
        e.SetServices([new VirtualService(new ServiceKey(IpAddress.Parse(Vip), 80, IpProtocol.Tcp), new TestRoundRobinScheduler(), [Dest(5, "2001:db8:d::5")])]);
        var syn = Syn(40000);
        Assert.Equal(DropReason.None, e.ProcessInto(syn, _batch, 0));
        var o = _batch[0];
        Assert.Equal(IpProtocol.IpIp, o[6]);
        Assert.True(o.Slice(40).SequenceEqual(syn));
    }

    [Fact]
    public void Ipv6_packet_beyond_the_mtu_gets_packet_too_big_and_small_ones_are_fragmented()
    {
        var e = Engine();
        _dests6[0].Mtu = 1400;
        Assert.Equal(DropReason.None, e.ProcessInto(Syn6(40000), _batch, 0));
        var big = Ipv6(IpProtocol.Tcp, Client6, Vip6, Tcp(40000, 80, TcpFlags.Ack, 1400 - 40 - 40 - 20 + 1));
        Assert.Equal(DropReason.FragNeeded, e.ProcessInto(big, _batch, 1));
        var r = _batch[0].ToArray();
        Assert.Equal(IpProtocol.Icmpv6, r[6]);
        Assert.Equal(Icmp.V6PacketTooBig, r[40]);
        Assert.Equal(1360u, BinaryPrimitives.ReadUInt32BigEndian(r.AsSpan(44)));
        Assert.Equal(IpAddress.Parse(Vip6), IpAddress.FromV6Bytes(r.AsSpan(8)));
        Assert.Equal(IpAddress.Parse(Client6), IpAddress.FromV6Bytes(r.AsSpan(24)));
        uint sum = Checksum.PseudoHeader(IpAddress.Parse(Vip6), IpAddress.Parse(Client6), IpProtocol.Icmpv6, r.Length - 40);
        Assert.Equal(0, Checksum.Finish(Checksum.Add(sum, r.AsSpan(40))));
        Assert.Equal(1280, r.Length);                                          // quote as much as fits in 1280
        Assert.True(r.AsSpan(48).SequenceEqual(big.AsSpan(0, 1280 - 48)));

        _dests6[0].Mtu = 1280;                                                 // a 1280-byte inner packet must still pass
        var min = Ipv6(IpProtocol.Tcp, Client6, Vip6, Tcp(40000, 80, TcpFlags.Ack, 1280 - 60));
        Assert.Equal(DropReason.None, e.ProcessInto(min, _batch, 2));
        Assert.Equal(2, _batch.Count);
        Assert.Equal(IpProtocol.Fragment, _batch[0][6]);
        Assert.True(_batch.Packets[0].Length <= 1280 && _batch.Packets[1].Length <= 1280);
    }

    [Fact]
    public void Ipv6_echo_request_is_answered()
    {
        var e = Engine();
        var req = Icmpv6(Client6, Vip6, 128, 0, [0, 9, 0, 1], "ping6"u8);
        Assert.Equal(DropReason.None, e.ProcessInto(req, _batch, 0));
        var r = _batch[0].ToArray();
        Assert.Equal(Icmp.V6EchoReply, r[40]);
        uint sum = Checksum.PseudoHeader(IpAddress.Parse(Vip6), IpAddress.Parse(Client6), IpProtocol.Icmpv6, r.Length - 40);
        Assert.Equal(0, Checksum.Finish(Checksum.Add(sum, r.AsSpan(40))));
    }

    [Fact]
    public void Gue_wraps_in_udp_with_a_stable_per_flow_source_port()
    {
        var e = Engine();
        foreach (var d in _dests) { d.Encap = EncapKind.Gue; d.GuePort = 6080; d.GueChecksum = true; }
        var syn = Syn(40000);
        Assert.Equal(DropReason.None, e.ProcessInto(syn, _batch, 0));
        var o = _batch[0].ToArray();
        Assert.Equal(IpProtocol.Udp, o[9]);
        Assert.Equal(syn.Length + 32, o.Length);
        ushort sport = BinaryPrimitives.ReadUInt16BigEndian(o.AsSpan(20));
        Assert.True(sport >= 49152);
        Assert.Equal(6080, BinaryPrimitives.ReadUInt16BigEndian(o.AsSpan(22)));
        Assert.Equal(syn.Length + 12, BinaryPrimitives.ReadUInt16BigEndian(o.AsSpan(24)));
        uint sum = Checksum.PseudoHeader(Outer, _dests[0].Address, IpProtocol.Udp, o.Length - 20);
        Assert.Equal(0, Checksum.Finish(Checksum.Add(sum, o.AsSpan(20))));
        Assert.Equal(new byte[] { 0, 4, 0, 0 }, o.AsSpan(28, 4).ToArray());
        Assert.True(o.AsSpan(32).SequenceEqual(syn));

        Assert.Equal(DropReason.None, e.ProcessInto(Ack(40000, 10, true), _batch, 1));
        Assert.Equal(sport, BinaryPrimitives.ReadUInt16BigEndian(_batch[0].Slice(20)));

        var filter = new DecapFilter([Outer], [IpAddress.Parse(Vip)]);
        Assert.Equal(DropReason.None, filter.CheckGue(Outer, o.AsSpan(28), out int off, out int len));
        Assert.True(o.AsSpan(28 + off, len).SequenceEqual(syn));
    }

    // ------------------------------------------------------------------ allocation

    [Fact]
    public void New_paths_do_not_allocate()
    {
        var e = Engine(new DirectorEngineOptions { ConnectionCapacity = 8192, HashSeed = 3, IcmpRatePerSecond = 1_000_000, IcmpBurst = 1_000_000 });
        _dests[1].Mtu = 1400;
        _dests[2].Encap = EncapKind.Gue;
        _dests6[0].Mtu = 1400;
        var ping = Icmpv4(Client, Vip, 8, 0, [0, 1, 0, 1], "x"u8);
        var ping6 = Icmpv6(Client6, Vip6, 128, 0, [0, 1, 0, 1], "x"u8);
        for (ushort p = 40000; p < 40003; p++) e.ProcessInto(Syn(p, df: false), _batch, 0);
        var icmpErr = IcmpErrorFor(40001);
        var tooBig = Ack(40001, 1400, df: true);
        var fragmented = Ack(40001, 3000, df: false);
        var gue = Ack(40002, 100, df: true);
        var frags = FragmentV4(Ipv4(IpProtocol.Udp, Client, Vip, Udp(50000, 53, 3000), id: 1), 1480);
        var syn6 = Syn6(40000);
        e.ProcessInto(syn6, _batch, 0);
        var ack6 = Ipv6(IpProtocol.Tcp, Client6, Vip6, Tcp(40000, 80, TcpFlags.Ack, 2000));
        ushort id = 1;
        void Loop(int n)
        {
            for (int i = 0; i < n; i++)
            {
                e.ProcessInto(ping, _batch, i);
                e.ProcessInto(ping6, _batch, i);
                e.ProcessInto(icmpErr, _batch, i);
                e.ProcessInto(tooBig, _batch, i);
                e.ProcessInto(fragmented, _batch, i);
                e.ProcessInto(gue, _batch, i);
                e.ProcessInto(syn6, _batch, i);
                e.ProcessInto(ack6, _batch, i);
                id++;
                foreach (var f in frags)
                {
                    BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(4), id);
                    f[10] = 0; f[11] = 0;
                    BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(10), Checksum.Compute(f.AsSpan(0, 20)));
                    e.ProcessInto(f, _batch, i);
                }
            }
        }
        Loop(500);
        long before = GC.GetAllocatedBytesForCurrentThread();
        Loop(500);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.True(e.IcmpForwarded >= 1000 && e.IcmpGenerated >= 3000 && e.OuterFragments >= 1000);
    }
}
