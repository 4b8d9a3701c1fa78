using TunLB.Core.Flows;
using TunLB.Core.Packets;

namespace TunLB.Linux.Tests;

/// <summary>
/// Link-layer sends: <see cref="NextHopTable"/> reads the kernel's route and neighbour tables, and
/// <see cref="OutputSender"/> hands tunnel packets for resolved next hops to the device with an AF_PACKET socket.
/// </summary>
public sealed class NextHopTableTests
{
    private const string Links = """
        [{"ifindex":1,"ifname":"lo","flags":["LOOPBACK","UP","LOWER_UP"],"link_type":"loopback","address":"00:00:00:00:00:00"},
         {"ifindex":2,"ifname":"eth0","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"link_type":"ether","address":"de:76:c0:ed:9d:89"},
         {"ifindex":3,"ifname":"eth1","flags":["BROADCAST","MULTICAST"],"link_type":"ether","address":"de:76:c0:ed:9d:8a"},
         {"ifindex":4,"ifname":"tun0","flags":["POINTOPOINT","NOARP","UP"],"link_type":"none"}]
        """;

    private const string Neighbours = """
        [{"dst":"203.0.113.1","dev":"eth0","lladdr":"e2:0c:50:f1:34:07","state":["STALE"]},
         {"dst":"203.0.113.5","dev":"eth0","lladdr":"e2:0c:50:f1:34:08","state":["FAILED"]},
         {"dst":"203.0.113.6","dev":"eth0","state":["INCOMPLETE"]},
         {"dst":"2001:db8::1","dev":"eth0","lladdr":"e2:0c:50:f1:34:09","router":null,"state":["REACHABLE"]},
         {"dst":"198.51.100.1","dev":"eth1","lladdr":"e2:0c:50:f1:34:0a","state":["PERMANENT"]}]
        """;

    [Fact]
    public void Resolve_UsesGatewayOrOnLinkNeighbour_OnEthernetDevicesOnly()
    {
        string routes = string.Join('\n',
            """[{"dst":"192.0.2.11","gateway":"203.0.113.1","dev":"eth0","prefsrc":"203.0.113.2","flags":[],"uid":0,"cache":[]}]""",
            """[{"dst":"203.0.113.1","dev":"eth0","prefsrc":"203.0.113.2","flags":[],"uid":0,"cache":[]}]""",
            """[{"dst":"203.0.113.5","dev":"eth0","flags":[],"cache":[]}]""",                         // neighbour FAILED
            """[{"dst":"203.0.113.6","dev":"eth0","flags":[],"cache":[]}]""",                         // neighbour INCOMPLETE
            """[{"dst":"192.0.2.99","gateway":"198.51.100.1","dev":"eth1","flags":[],"cache":[]}]""", // device down
            """[{"dst":"192.0.2.77","dev":"tun0","flags":[],"cache":[]}]""",                          // not Ethernet
            """[{"type":"local","dst":"203.0.113.2","dev":"lo","flags":[],"cache":["local"]}]""",     // local
            """[{"dst":"2001:db8:5::7","gateway":"2001:db8::1","dev":"eth0","flags":[],"pref":"medium"}]""",
            "",
            "garbage that ip printed to stdout");
        var hops = NextHopTable.Resolve(routes, Neighbours, Links);

        Assert.Equal(3, hops.Count);
        var a = hops[IpAddress.Parse("192.0.2.11")];
        Assert.Equal((2, true, "e2:0c:50:f1:34:07", IpAddress.Parse("203.0.113.1")),
            (a.IfIndex, a.IsV4, string.Join(':', a.Mac.Select(b => b.ToString("x2"))), a.Via));
        Assert.Equal(IpAddress.Parse("203.0.113.1"), hops[IpAddress.Parse("203.0.113.1")].Via);
        var v6 = hops[IpAddress.Parse("2001:db8:5::7")];
        Assert.False(v6.IsV4);
        Assert.Equal(0x09, v6.Mac[5]);
    }

    [Fact]
    public void Snapshot_SendsOneKeepalivePerDestinationThroughTheKernel()
    {
        var hops = new Dictionary<IpAddress, LinkHop>
        {
            [IpAddress.Parse("192.0.2.11")] = new LinkHop(2, true, [1, 2, 3, 4, 5, 6], "eth0", IpAddress.Parse("203.0.113.1")),
        };
        var snap = NewSnapshot(hops, null);
        var rs = IpAddress.Parse("192.0.2.11");
        Assert.False(snap.GoesDirect(rs, 10_000));              // first packet: keepalive through the kernel
        Assert.True(snap.GoesDirect(rs, 10_001));
        Assert.True(snap.GoesDirect(rs, 10_000 + NextHopTable.KeepaliveMs - 1));
        Assert.False(snap.GoesDirect(rs, 10_000 + NextHopTable.KeepaliveMs)); // due again
        Assert.False(snap.GoesDirect(IpAddress.Parse("192.0.2.12"), 10_001)); // unknown
        // A refresh keeps the keepalive clock, so it does not send a burst through the kernel.
        var next = NewSnapshot(hops, snap);
        Assert.True(next.GoesDirect(rs, 10_000 + NextHopTable.KeepaliveMs + 1));
    }

    private static NextHopTable.Snapshot NewSnapshot(Dictionary<IpAddress, LinkHop> hops, NextHopTable.Snapshot? previous) => new(hops, previous);

    [Fact]
    public void ResolvedNextHop_PacketsGoStraightToTheDevice_AndArriveIntact()
    {
        using var director = new TestNetns();
        using var real = new TestNetns();
        TestNetns.CreateVethPair(director, "192.0.2.1/24", real, "192.0.2.2/24");
        using RawIpSocket receiver = real.Run(() => RawIpSocket.OpenReceiver(IpProtocol.IpIp, receiveBufferBytes: 1 << 20));
        var rs = IpAddress.Parse("192.0.2.2");
        using var table = director.Run(() => new NextHopTable(() => [(rs, IpAddress.Parse("192.0.2.1"))], intervalMs: 0));
        using OutputSender tx = director.Run(() => OutputSender.Open(ipv4: true, ipv6: false));
        director.Run(() => tx.UseLinkLayer(table));

        // Nothing resolved yet: the first packet goes through the kernel, which resolves the neighbour (ARP).
        var buffer = new byte[64 * 100];
        var packets = new OutputPacket[20];
        for (int i = 0; i < packets.Length; i++)
        {
            byte[] p = Encapsulate((ushort)(i + 1));
            p.CopyTo(buffer, i * 100);
            packets[i] = new OutputPacket { Offset = i * 100, Length = p.Length, NextHop = rs, Kind = OutputKind.Tunnel };
        }
        Assert.Equal(0, director.Run(() => table.Refresh()));
        Assert.Equal(0, tx.SendMany(buffer, packets.AsSpan(0, 1)));
        Assert.Equal(0, tx.SentLinkLayer);
        var first = TunDeviceTests.ReceiveIPv4(receiver, IpProtocol.IpIp, TimeSpan.FromSeconds(5));
        Assert.Equal(1, first[5]); // IP id 1

        Assert.Equal(1, director.Run(() => table.Refresh()));
        Assert.Equal(0, tx.SendMany(buffer, packets.AsSpan(1)));
        // One keepalive may go through the kernel; the rest went straight to the device.
        Assert.InRange(tx.SentLinkLayer, packets.Length - 2, packets.Length - 1);
        for (int i = 1; i < packets.Length; i++)
        {
            var got = TunDeviceTests.ReceiveIPv4(receiver, IpProtocol.IpIp, TimeSpan.FromSeconds(5));
            Assert.Equal(Convert.ToHexString(buffer, i * 100, packets[i].Length), Convert.ToHexString(got));
        }
    }

    private static byte[] Encapsulate(ushort id)
    {
        byte[] inner = Packets.Udp(Packets.V4("198.51.100.1"), Packets.V4("203.0.113.10"), 40000, 80, "payload"u8);
        var outer = new byte[inner.Length + Tunnel.Ipv4HeaderLength];
        Tunnel.Encapsulate(inner, outer, IpAddress.Parse("192.0.2.1"), IpAddress.Parse("192.0.2.2"), EncapKind.Ipip, 0, 0, false, 64, id, 0);
        return outer;
    }
}
