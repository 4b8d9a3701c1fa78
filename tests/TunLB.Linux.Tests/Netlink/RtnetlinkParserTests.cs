using TunLB.Core.Flows;
using TunLB.Linux.Netlink;
using static TunLB.Linux.Tests.Netlink.NetlinkBytes;

namespace TunLB.Linux.Tests.Netlink;

/// <summary>
/// <see cref="RtnetlinkParser"/> and <see cref="NetlinkMessageReader"/> on hand-built messages, including truncated
/// and garbage ones: a bad attribute is skipped or ends the walk, never throws or reads past the buffer.
/// </summary>
public sealed class RtnetlinkParserTests
{
    private const byte Inet = Interop.AF_INET, Inet6 = Interop.AF_INET6;

    [Fact]
    public void Route_ReadsTypeDestinationDeviceAndGateway()
    {
        var r = RtnetlinkParser.Route(Payload(Rtmsg(Inet, Interop.RTN_UNICAST),
            Attribute(Interop.RTA_DST, Ip("192.0.2.11")), Attribute(Interop.RTA_OIF, U32(7)),
            Attribute(Interop.RTA_GATEWAY, Ip("203.0.113.1")), Attribute(15 /* RTA_TABLE */, U32(254))));
        Assert.Equal(new KernelRoute(IpAddress.Parse("192.0.2.11"), Interop.RTN_UNICAST, 7, IpAddress.Parse("203.0.113.1")), r);

        var local = RtnetlinkParser.Route(Payload(Rtmsg(Inet6, Interop.RTN_LOCAL), Attribute(Interop.RTA_DST, Ip("2001:db8::1"))));
        Assert.Equal(new KernelRoute(IpAddress.Parse("2001:db8::1"), Interop.RTN_LOCAL, 0, null), local);
    }

    [Fact]
    public void Route_ViaAnIpv6Router_GivesAGatewayOfTheOtherFamily()
    {
        byte[] via = [.. BitConverter.GetBytes((ushort)Interop.AF_INET6), .. Ip("fe80::1")];
        var r = RtnetlinkParser.Route(Payload(Rtmsg(Inet, Interop.RTN_UNICAST), Attribute(Interop.RTA_DST, Ip("192.0.2.11")),
            Attribute(Interop.RTA_OIF, U32(2)), Attribute(Interop.RTA_VIA, via)));
        Assert.Equal(IpAddress.Parse("fe80::1"), r!.Gateway);
        // A via too short for its family's address, or of an unknown family, is skipped.
        foreach (byte[] bad in new byte[][] { via[..10], [.. BitConverter.GetBytes((ushort)7), .. Ip("192.0.2.1")], [2] })
        {
            var s = RtnetlinkParser.Route(Payload(Rtmsg(Inet, Interop.RTN_UNICAST), Attribute(Interop.RTA_DST, Ip("192.0.2.11")), Attribute(Interop.RTA_VIA, bad)));
            Assert.Null(s!.Gateway);
        }
    }

    [Fact]
    public void Route_SkipsAttributesOfTheWrongLength_AndNeedsADestination()
    {
        var r = RtnetlinkParser.Route(Payload(Rtmsg(Inet, Interop.RTN_UNICAST),
            Attribute(Interop.RTA_OIF, [1, 2]),                              // too short for an int
            Attribute(Interop.RTA_GATEWAY, Ip("2001:db8::1")),               // IPv6 gateway in an IPv4 rtmsg
            Attribute(Interop.RTA_DST, Ip("192.0.2.11")),
            Attribute(Interop.RTA_OIF | Interop.NLA_F_NESTED, U32(3))));     // flag bits are not part of the type
        Assert.Equal(new KernelRoute(IpAddress.Parse("192.0.2.11"), Interop.RTN_UNICAST, 3, null), r);

        Assert.Null(RtnetlinkParser.Route(Payload(Rtmsg(Inet, Interop.RTN_UNICAST), Attribute(Interop.RTA_OIF, U32(3)))));
        Assert.Null(RtnetlinkParser.Route(Payload(Rtmsg(Inet, Interop.RTN_UNICAST), Attribute(Interop.RTA_DST, Ip("2001:db8::1")))));
        Assert.Null(RtnetlinkParser.Route(Payload(Rtmsg(7, Interop.RTN_UNICAST), Attribute(Interop.RTA_DST, Ip("192.0.2.11")))));
        Assert.Null(RtnetlinkParser.Route(Rtmsg(Inet, Interop.RTN_UNICAST)[..11]));
        Assert.Null(RtnetlinkParser.Route([]));
    }

    [Fact]
    public void Route_TruncatedAttribute_KeepsTheOnesBefore()
    {
        byte[] payload = Payload(Rtmsg(Inet, Interop.RTN_UNICAST), Attribute(Interop.RTA_DST, Ip("192.0.2.11")),
            Attribute(Interop.RTA_OIF, U32(5)), Attribute(Interop.RTA_GATEWAY, Ip("203.0.113.1")));
        // Cut inside the gateway's value: its rta_len now runs past the message.
        var r = RtnetlinkParser.Route(payload[..^2]);
        Assert.Equal(new KernelRoute(IpAddress.Parse("192.0.2.11"), Interop.RTN_UNICAST, 5, null), r);
        // Cut inside the gateway's header.
        Assert.Equal(5, RtnetlinkParser.Route(payload[..^6])!.OutIfIndex);
        // An attribute claiming length 0 or 2 (shorter than its header) ends the walk instead of looping on it.
        foreach (ushort len in new ushort[] { 0, 2 })
        {
            byte[] bad = [.. BitConverter.GetBytes(len), .. BitConverter.GetBytes(Interop.RTA_OIF), 9, 0, 0, 0];
            var s = RtnetlinkParser.Route(Payload(Rtmsg(Inet, Interop.RTN_UNICAST), Attribute(Interop.RTA_DST, Ip("192.0.2.11")), bad, Attribute(Interop.RTA_OIF, U32(4))));
            Assert.Equal(0, s!.OutIfIndex);
        }
    }

    [Fact]
    public void Neighbour_ReadsDeviceAddressLinkAddressAndState()
    {
        byte[] mac = [0xe2, 0x0c, 0x50, 0xf1, 0x34, 0x07];
        var n = RtnetlinkParser.Neighbour(Payload(Ndmsg(Inet, 4, Interop.NUD_STALE),
            Attribute(Interop.NDA_DST, Ip("203.0.113.1")), Attribute(Interop.NDA_LLADDR, mac), Attribute(8 /* NDA_PROBES */, U32(1))));
        Assert.NotNull(n);
        Assert.Equal((4, IpAddress.Parse("203.0.113.1"), Interop.NUD_STALE), (n.IfIndex, n.Address, n.State));
        Assert.Equal(mac, n.LinkAddress);

        var v6 = RtnetlinkParser.Neighbour(Payload(Ndmsg(Inet6, 4, Interop.NUD_REACHABLE), Attribute(Interop.NDA_DST, Ip("2001:db8::1")), Attribute(Interop.NDA_LLADDR, mac)));
        Assert.Equal(IpAddress.Parse("2001:db8::1"), v6!.Address);
    }

    [Fact]
    public void Neighbour_WithoutAnEthernetLinkAddressOrAnIpAddress_IsNull()
    {
        byte[] mac = [2, 0, 0, 0, 0, 1];
        // INCOMPLETE entries carry no NDA_LLADDR; a 0-length or non-Ethernet one is no better.
        Assert.Null(RtnetlinkParser.Neighbour(Payload(Ndmsg(Inet, 4, Interop.NUD_INCOMPLETE), Attribute(Interop.NDA_DST, Ip("203.0.113.6")))));
        Assert.Null(RtnetlinkParser.Neighbour(Payload(Ndmsg(Inet, 4, Interop.NUD_NOARP), Attribute(Interop.NDA_DST, Ip("203.0.113.6")), Attribute(Interop.NDA_LLADDR, []))));
        Assert.Null(RtnetlinkParser.Neighbour(Payload(Ndmsg(Inet, 4, Interop.NUD_STALE), Attribute(Interop.NDA_DST, Ip("203.0.113.6")), Attribute(Interop.NDA_LLADDR, [1, 2, 3, 4]))));
        Assert.Null(RtnetlinkParser.Neighbour(Payload(Ndmsg(Inet, 4, Interop.NUD_STALE), Attribute(Interop.NDA_LLADDR, mac))));
        Assert.Null(RtnetlinkParser.Neighbour(Payload(Ndmsg(Inet6, 4, Interop.NUD_STALE), Attribute(Interop.NDA_DST, Ip("203.0.113.6")), Attribute(Interop.NDA_LLADDR, mac))));
        Assert.Null(RtnetlinkParser.Neighbour(Payload(Ndmsg(7 /* AF_BRIDGE */, 4, Interop.NUD_PERMANENT), Attribute(Interop.NDA_LLADDR, mac))));
        Assert.Null(RtnetlinkParser.Neighbour(Ndmsg(Inet, 4, Interop.NUD_STALE)[..8]));
    }

    [Fact]
    public void Link_ReadsNameTypeFlagsAddressAndMtu()
    {
        byte[] mac = [0xde, 0x76, 0xc0, 0xed, 0x9d, 0x89];
        var l = RtnetlinkParser.Link(Payload(Ifinfomsg(2, Interop.ARPHRD_ETHER, Interop.IFF_UP | 0x1000),
            Attribute(Interop.IFLA_IFNAME, "eth0\0"u8), Attribute(Interop.IFLA_MTU, U32(1500)), Attribute(Interop.IFLA_ADDRESS, mac),
            Attribute(2 /* IFLA_BROADCAST */, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff])));
        Assert.NotNull(l);
        Assert.Equal((2, "eth0", Interop.ARPHRD_ETHER, Interop.IFF_UP | 0x1000u, 1500), (l.Index, l.Name, l.Type, l.Flags, l.Mtu));
        Assert.Equal(mac, l.Address);

        // A TUN device has no link-layer address; a name without its NUL is still a name.
        var tun = RtnetlinkParser.Link(Payload(Ifinfomsg(9, Interop.ARPHRD_NONE, 0), Attribute(Interop.IFLA_IFNAME, "tun0"u8), Attribute(Interop.IFLA_MTU, [1, 2])));
        Assert.Equal(new KernelLink(9, "tun0", Interop.ARPHRD_NONE, 0, null, 0), tun);
        Assert.Null(RtnetlinkParser.Link(Payload(Ifinfomsg(9, Interop.ARPHRD_ETHER, 0), Attribute(Interop.IFLA_MTU, U32(1500)))));
        Assert.Null(RtnetlinkParser.Link(Payload(Ifinfomsg(9, Interop.ARPHRD_ETHER, 0), Attribute(Interop.IFLA_IFNAME, "\0"u8))));
        Assert.Null(RtnetlinkParser.Link(Ifinfomsg(9, Interop.ARPHRD_ETHER, 0)[..15]));
    }

    [Fact]
    public void MessageReader_WalksPaddedMessages_AndStopsAtATruncatedOne()
    {
        byte[] a = Message(Interop.RTM_NEWLINK, 5, Ifinfomsg(1, Interop.ARPHRD_LOOPBACK, 1), Attribute(Interop.IFLA_IFNAME, "lo\0"u8));
        byte[] b = Message(Interop.NLMSG_DONE, 5, U32(0));
        byte[] datagram = [.. a, .. b];
        var seen = Walk(datagram, out bool malformed);
        Assert.Equal([(Interop.RTM_NEWLINK, 5u, a.Length - 16), (Interop.NLMSG_DONE, 5u, 4)], seen);
        Assert.False(malformed);

        // The second message's nlmsg_len runs past the datagram; a header shorter than 16 bytes; nlmsg_len below 16.
        Assert.Equal([(Interop.RTM_NEWLINK, 5u, a.Length - 16)], Walk(datagram[..^1], out malformed));
        Assert.True(malformed);
        Assert.Equal([(Interop.RTM_NEWLINK, 5u, a.Length - 16)], Walk([.. a, 1, 2, 3], out malformed));
        Assert.True(malformed);
        byte[] shortLen = [.. b];
        BitConverter.TryWriteBytes(shortLen.AsSpan(0), 15u);
        Assert.Empty(Walk(shortLen, out malformed));
        Assert.True(malformed);
        Assert.Empty(Walk([], out malformed));
        Assert.False(malformed);
    }

    [Fact]
    public void RandomBytes_NeverThrowOrReadPastTheBuffer()
    {
        // Valid messages with random corruption, and plain noise: the walk and every parser only ever return.
        var rng = new Random(1234);
        byte[] valid = [.. Message(Interop.RTM_NEWROUTE, 1, Rtmsg(Inet, 1), Attribute(Interop.RTA_DST, Ip("192.0.2.11")), Attribute(Interop.RTA_OIF, U32(2))),
            .. Message(Interop.RTM_NEWNEIGH, 2, Ndmsg(Inet6, 2, 4), Attribute(Interop.NDA_DST, Ip("2001:db8::1")), Attribute(Interop.NDA_LLADDR, [1, 2, 3, 4, 5, 6])),
            .. Message(Interop.RTM_NEWLINK, 3, Ifinfomsg(2, 1, 1), Attribute(Interop.IFLA_IFNAME, "eth0\0"u8), Attribute(Interop.IFLA_ADDRESS, [1, 2, 3, 4, 5, 6]))];
        int parsed = 0;
        for (int round = 0; round < 20_000; round++)
        {
            byte[] data = round % 4 == 0 ? new byte[rng.Next(0, 200)] : [.. valid];
            if (round % 4 == 0) rng.NextBytes(data);
            else for (int k = rng.Next(1, 4); k > 0; k--) data[rng.Next(data.Length)] = (byte)rng.Next(256);
            if (round % 3 == 0) data = data[..rng.Next(data.Length + 1)];
            var reader = new NetlinkMessageReader(data);
            while (reader.TryRead(out _, out var payload))
            {
                if (RtnetlinkParser.Route(payload) is not null) parsed++;
                if (RtnetlinkParser.Neighbour(payload) is not null) parsed++;
                if (RtnetlinkParser.Link(payload) is not null) parsed++;
            }
        }
        Assert.True(parsed > 1000, $"only {parsed} records parsed: the corruption should leave most messages readable");
    }

    private static List<(ushort Type, uint Seq, int PayloadLength)> Walk(byte[] datagram, out bool malformed)
    {
        var seen = new List<(ushort, uint, int)>();
        var reader = new NetlinkMessageReader(datagram);
        while (reader.TryRead(out var h, out var payload)) seen.Add((h.nlmsg_type, h.nlmsg_seq, payload.Length));
        malformed = reader.Malformed;
        return seen;
    }
}
