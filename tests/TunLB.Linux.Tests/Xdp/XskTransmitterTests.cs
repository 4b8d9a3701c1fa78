using TunLB.Core.Flows;
using TunLB.Core.Packets;
using TunLB.Linux.Xdp;

namespace TunLB.Linux.Tests.Xdp;

/// <summary>
/// io = "xdp" with the next hop on the capture device: tunnel packets leave through the AF_XDP socket's TX ring
/// (OutputSender with an <see cref="XskTransmitter"/>) and arrive whole at the peer; and the ring path allocates nothing.
/// </summary>
public sealed class XskTransmitterTests
{
    [Fact]
    public void Tunnel_packets_to_a_next_hop_on_the_capture_device_leave_through_the_AF_XDP_TX_ring()
    {
        using var pair = new XdpVethPair();
        using var xsk = pair.Xdp.Run(() => XskSocket.Open(pair.XdpIfIndex, 0, ringSize: 256));
        var peer = IpAddress.Parse(XdpVethPair.PeerAddress);
        using var table = pair.Xdp.Run(() => new NextHopTable(() => [(peer, IpAddress.Parse(XdpVethPair.XdpAddress))], intervalMs: 0));
        using OutputSender tx = pair.Xdp.Run(() => OutputSender.Open(ipv4: true, ipv6: false));
        var links = new LinkTransmitters(openRing: null);
        links.Add(new XskTransmitter(xsk));
        pair.Xdp.Run(() => tx.UseLinkLayer(table, links));
        var (buffer, packets) = Batch(21, peer);

        Assert.Equal(0, pair.Xdp.Run(() => tx.SendMany(buffer, packets.AsSpan(0, 1)))); // through the kernel: ARP
        Assert.Single(pair.CaptureAtPeer(IsIpip, 1));
        Assert.Equal(1, pair.Xdp.Run(() => table.Refresh()));
        Assert.Equal(0, pair.Xdp.Run(() => tx.SendMany(buffer, packets.AsSpan(1))));

        var got = pair.CaptureAtPeer(IsIpip, packets.Length - 1);
        Assert.Equal(packets.Length - 1, got.Count);
        var sent = Enumerable.Range(1, packets.Length - 1).Select(i => Convert.ToHexString(buffer, i * 100, packets[i].Length)).Order();
        Assert.Equal(sent, got.Select(f => Convert.ToHexString(f, 14, f.Length - 14)).Order());
        var ring = Assert.Single(links.Totals());
        Assert.Equal("af_xdp", ring.Kind);
        Assert.Equal(packets.Length - 2, ring.Frames); // minus the keepalive through the kernel
        Assert.All(got, f => Assert.Equal(Convert.ToHexString(pair.PeerMac), Convert.ToHexString(f, 0, 6)));
    }

    [Fact]
    public void Sending_through_a_PACKET_TX_RING_allocates_nothing()
    {
        using var director = new TestNetns();
        using var real = new TestNetns();
        TestNetns.CreateVethPair(director, "192.0.2.1/24", real, "192.0.2.2/24");
        var rs = IpAddress.Parse("192.0.2.2");
        using var table = director.Run(() => new NextHopTable(() => [(rs, IpAddress.Parse("192.0.2.1"))], intervalMs: 0));
        using OutputSender tx = director.Run(() => OutputSender.Open(ipv4: true, ipv6: false));
        var links = LinkTransmitters.WithPacketRings();
        director.Run(() => tx.UseLinkLayer(table, links));
        var (buffer, packets) = Batch(32, rs);
        director.Run(() =>
        {
            tx.SendMany(buffer, packets.AsSpan(0, 1));
            for (int i = 0; i < 50 && table.Refresh() == 0; i++) Thread.Sleep(20);
            for (int i = 0; i < 20; i++) tx.SendMany(buffer, packets); // JIT, ring opened on first use
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 100; i++) tx.SendMany(buffer, packets);
            Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        });
        Assert.True(Assert.Single(links.Totals()).Frames >= 100 * packets.Length);
    }

    private static bool IsIpip(byte[] f) => f.Length > 34 && f[12] == 0x08 && f[13] == 0x00 && f[14 + 9] == IpProtocol.IpIp;

    private static (byte[] Buffer, OutputPacket[] Packets) Batch(int count, IpAddress to)
    {
        var buffer = new byte[100 * count];
        var packets = new OutputPacket[count];
        for (int i = 0; i < count; i++)
        {
            byte[] inner = Packets.Udp(Packets.V4("198.51.100.1"), Packets.V4("203.0.113.10"), (ushort)(40000 + i), 80, "payload"u8);
            var outer = new byte[inner.Length + Tunnel.Ipv4HeaderLength];
            Tunnel.Encapsulate(inner, outer, IpAddress.Parse(XdpVethPair.XdpAddress), to, EncapKind.Ipip, 0, 0, false, 64, (ushort)(i + 1), 0);
            outer.CopyTo(buffer, i * 100);
            packets[i] = new OutputPacket { Offset = i * 100, Length = outer.Length, NextHop = to, Kind = OutputKind.Tunnel };
        }
        return (buffer, packets);
    }
}
