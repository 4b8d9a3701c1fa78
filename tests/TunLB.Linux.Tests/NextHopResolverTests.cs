using TunLB.Core.Flows;
using TunLB.Linux.Netlink;

namespace TunLB.Linux.Tests;

/// <summary><see cref="NextHopResolver"/>: which destinations may go straight to the device, from typed kernel records.</summary>
public sealed class NextHopResolverTests
{
    private static readonly byte[] OwnMac = [0xde, 0x76, 0xc0, 0xed, 0x9d, 0x89];
    private static readonly byte[] GatewayMac = [0xe2, 0x0c, 0x50, 0xf1, 0x34, 0x07];

    private static readonly KernelLink[] Links =
    [
        new(1, "lo", Interop.ARPHRD_LOOPBACK, Interop.IFF_UP, [0, 0, 0, 0, 0, 0], 65536),
        new(2, "eth0", Interop.ARPHRD_ETHER, Interop.IFF_UP | 0x1000, OwnMac, 1500),
        new(3, "eth1", Interop.ARPHRD_ETHER, 0x1002, OwnMac, 1500),                  // down
        new(4, "tun0", Interop.ARPHRD_NONE, Interop.IFF_UP, null, 1480),
        new(5, "eth2", Interop.ARPHRD_ETHER, Interop.IFF_UP, null, 9000),           // no own address known
    ];

    private static IpAddress A(string s) => IpAddress.Parse(s);

    private static KernelRoute Route(string dst, int oif, string? gw = null, byte type = Interop.RTN_UNICAST) =>
        new(A(dst), type, oif, gw is null ? null : A(gw));

    [Fact]
    public void GatewayOrOnLinkNeighbour_OverAnUpEthernetDevice_Resolves()
    {
        var hops = NextHopResolver.Resolve(
            [Route("192.0.2.11", 2, "203.0.113.1"), Route("203.0.113.7", 2), Route("2001:db8:5::7", 2, "fe80::1"), Route("192.0.2.12", 5, "198.18.0.1")],
            [new(2, A("203.0.113.1"), GatewayMac, Interop.NUD_STALE), new(2, A("203.0.113.7"), [2, 0, 0, 0, 0, 7], Interop.NUD_REACHABLE),
             new(2, A("fe80::1"), [2, 0, 0, 0, 0, 6], Interop.NUD_DELAY), new(5, A("198.18.0.1"), [2, 0, 0, 0, 0, 8], Interop.NUD_PERMANENT)],
            Links);
        Assert.Equal(4, hops.Count);
        var g = hops[A("192.0.2.11")];
        Assert.Equal((2, true, "eth0", A("203.0.113.1"), 1500), (g.IfIndex, g.IsV4, g.Device, g.Via, g.Mtu));
        Assert.Equal(GatewayMac, g.Mac);
        Assert.Equal(OwnMac, g.SourceMac);
        Assert.Equal(A("203.0.113.7"), hops[A("203.0.113.7")].Via);
        Assert.Equal((false, A("fe80::1")), (hops[A("2001:db8:5::7")].IsV4, hops[A("2001:db8:5::7")].Via));
        Assert.Null(hops[A("192.0.2.12")].SourceMac);
        Assert.Equal(9000, hops[A("192.0.2.12")].Mtu);
    }

    [Theory]
    [InlineData(Interop.NUD_REACHABLE, true)]
    [InlineData(Interop.NUD_STALE, true)]
    [InlineData(Interop.NUD_DELAY, true)]
    [InlineData(Interop.NUD_PROBE, true)]
    [InlineData(Interop.NUD_PERMANENT, true)]
    [InlineData(Interop.NUD_NONE, false)]
    [InlineData(Interop.NUD_INCOMPLETE, false)]
    [InlineData(Interop.NUD_FAILED, false)]
    [InlineData(Interop.NUD_NOARP, false)]
    [InlineData(Interop.NUD_NOARP | Interop.NUD_PERMANENT, false)]
    public void NeighbourState_DecidesWhetherTheHopIsUsable(ushort state, bool usable)
    {
        var hops = NextHopResolver.Resolve([Route("192.0.2.11", 2, "203.0.113.1")], [new(2, A("203.0.113.1"), GatewayMac, state)], Links);
        Assert.Equal(usable, hops.ContainsKey(A("192.0.2.11")));
    }

    [Fact]
    public void NotUnicast_NotEthernet_DeviceDown_OrNoNeighbourOnThatDevice_StaysWithTheKernel()
    {
        KernelNeighbour[] neighbours =
        [
            new(2, A("203.0.113.1"), GatewayMac, Interop.NUD_REACHABLE), new(3, A("198.51.100.1"), GatewayMac, Interop.NUD_REACHABLE),
            new(4, A("192.0.2.77"), GatewayMac, Interop.NUD_REACHABLE), new(3, A("203.0.113.9"), GatewayMac, Interop.NUD_REACHABLE),
            new(2, A("203.0.113.2"), GatewayMac, Interop.NUD_PERMANENT), new(2, A("fe80::1"), GatewayMac, Interop.NUD_REACHABLE),
            new(2, A("203.0.113.8"), [1, 2, 3, 4], Interop.NUD_REACHABLE),
        ];
        var hops = NextHopResolver.Resolve(
        [
            Route("192.0.2.99", 3, "198.51.100.1"),                          // device down
            Route("192.0.2.77", 4),                                          // not Ethernet
            Route("203.0.113.9", 2),                                         // the neighbour is on another device
            Route("203.0.113.2", 1, type: Interop.RTN_LOCAL),                // local
            Route("203.0.113.2", 2, type: Interop.RTN_LOCAL),
            Route("192.0.2.50", 2, "fe80::1"),                               // IPv4 via an IPv6 router (RTA_VIA)
            Route("192.0.2.51", 9, "203.0.113.1"),                           // unknown device
            Route("203.0.113.8", 2),                                         // not an Ethernet address
            Route("192.0.2.11", 2, "203.0.113.1", 7),                       // RTN_UNREACHABLE
        ], neighbours, Links);
        Assert.Empty(hops);
    }
}
