using System.Diagnostics;
using TunLB.Core.Flows;
using TunLB.Core.Packets;

namespace TunLB.Linux.Tests;

/// <summary>
/// The PACKET_TX_RING sender in a namespace pair: frames queued in the ring leave in one kick and arrive intact (judged
/// by a raw socket and by tcpdump on the receiving end), a full ring says no until the kernel frees its frames, and a
/// ring the kernel refuses leaves the packets to sendmmsg.
/// </summary>
public sealed class PacketTxRingTests
{
    private static readonly IpAddress Director = IpAddress.Parse("192.0.2.1");
    private static readonly IpAddress Real = IpAddress.Parse("192.0.2.2");

    [Fact]
    public void TunnelPackets_LeaveThroughTheRing_InOneKick_AndArriveIntact()
    {
        using var director = new TestNetns();
        using var real = new TestNetns();
        var (_, devB) = TestNetns.CreateVethPair(director, "192.0.2.1/24", real, "192.0.2.2/24");
        using RawIpSocket receiver = real.Run(() => RawIpSocket.OpenReceiver(IpProtocol.IpIp, receiveBufferBytes: 1 << 20));
        using var table = director.Run(() => new NextHopTable(() => [(Real, Director)], intervalMs: 0));
        using OutputSender tx = director.Run(() => OutputSender.Open(ipv4: true, ipv6: false));
        var links = LinkTransmitters.WithPacketRings();
        director.Run(() => tx.UseLinkLayer(table, links));
        var (buffer, packets) = Batch(41);
        using var dump = Tcpdump.Start(real.Name, devB, "ip proto 4");

        // The first packet resolves the neighbour through the kernel (and is the keepalive); then the table knows the MAC.
        Assert.Equal(0, director.Run(() => tx.SendMany(buffer, packets.AsSpan(0, 1))));
        TunDeviceTests.ReceiveIPv4(receiver, IpProtocol.IpIp, TimeSpan.FromSeconds(5));
        Assert.Equal(1, director.Run(() => table.Refresh()));
        Assert.Equal(0, director.Run(() => tx.SendMany(buffer, packets.AsSpan(1))));

        var ring = Assert.Single(links.Totals());
        Assert.Equal("tx ring", ring.Kind);
        // Minus the keepalive: the first packet after the refresh takes the kernel's path (uptime > KeepaliveMs).
        Assert.Equal(packets.Length - 2, ring.Frames);
        Assert.Equal(0, links.Pending);
        for (int i = 1; i < packets.Length; i++)
        {
            var got = TunDeviceTests.ReceiveIPv4(receiver, IpProtocol.IpIp, TimeSpan.FromSeconds(5));
            Assert.Equal(Convert.ToHexString(buffer, i * 100, packets[i].Length), Convert.ToHexString(got));
        }
        int seen = dump.Count(packets.Length, TimeSpan.FromSeconds(5));
        Assert.True(seen == packets.Length, $"tcpdump saw {seen}:\n" + string.Join("\n", dump.Lines));
        Assert.Empty(links.Refused);
    }

    [Fact]
    public void RingTheKernelRefuses_PacketsTakeSendmmsg()
    {
        using var director = new TestNetns();
        using var real = new TestNetns();
        TestNetns.CreateVethPair(director, "192.0.2.1/24", real, "192.0.2.2/24");
        using RawIpSocket receiver = real.Run(() => RawIpSocket.OpenReceiver(IpProtocol.IpIp, receiveBufferBytes: 1 << 20));
        using var table = director.Run(() => new NextHopTable(() => [(Real, Director)], intervalMs: 0));
        using OutputSender tx = director.Run(() => OutputSender.Open(ipv4: true, ipv6: false));
        // tp_frame_size must be a multiple of TPACKET_ALIGNMENT: the kernel answers EINVAL.
        var logged = new List<string>();
        var links = new LinkTransmitters((ifindex, mtu) => PacketTxRing.Open(ifindex, mtu, frameSize: 2050), logged.Add);
        director.Run(() => tx.UseLinkLayer(table, links));
        var (buffer, packets) = Batch(11);

        Assert.Equal(0, director.Run(() => tx.SendMany(buffer, packets.AsSpan(0, 1))));
        TunDeviceTests.ReceiveIPv4(receiver, IpProtocol.IpIp, TimeSpan.FromSeconds(5));
        Assert.Equal(1, director.Run(() => table.Refresh()));
        Assert.Equal(0, director.Run(() => tx.SendMany(buffer, packets.AsSpan(1))));

        Assert.Contains("PACKET_TX_RING", Assert.Single(links.Refused));
        Assert.Single(logged);
        Assert.Empty(links.Totals());
        Assert.Equal(packets.Length - 2, tx.SentLinkLayer); // all but the keepalive straight to the device, through sendmmsg
        for (int i = 1; i < packets.Length; i++)
        {
            var got = TunDeviceTests.ReceiveIPv4(receiver, IpProtocol.IpIp, TimeSpan.FromSeconds(5));
            Assert.Equal(Convert.ToHexString(buffer, i * 100, packets[i].Length), Convert.ToHexString(got));
        }
    }

    [Fact]
    public void FullRing_RefusesUntilTheKernelHasFreedItsFrames_AndOversizedFramesAreRefused()
    {
        using var director = new TestNetns();
        using var real = new TestNetns();
        var (devA, devB) = TestNetns.CreateVethPair(director, "192.0.2.1/24", real, "192.0.2.2/24");
        int ifindex = director.Run(() => (int)NetworkInterfaces.IndexOf(devA));
        using var ring = director.Run(() => PacketTxRing.Open(ifindex, mtu: 1500, frames: 8));
        Assert.Equal(8, ring.Frames);
        using var dump = Tcpdump.Start(real.Name, devB, "ip proto 4");
        byte[] header = new byte[14];
        header[0] = 0xff; header[1] = 0xff; header[2] = 0xff; header[3] = 0xff; header[4] = 0xff; header[5] = 0xff; // broadcast
        header[6] = 0x02; header[12] = 0x08; // locally administered source, IPv4
        byte[] packet = Encapsulate(7);

        Assert.False(ring.TryQueue(header, new byte[1501]));
        Assert.Equal(1, ring.TooBig);
        for (int i = 0; i < 8; i++) Assert.True(ring.TryQueue(header, packet));
        Assert.False(ring.TryQueue(header, packet)); // every slot marked for sending
        Assert.Equal(1, ring.RingFull);
        Assert.Equal(8, ring.InFlight());
        Assert.True(director.Run(() => ring.Flush()));
        Assert.Equal(1, ring.Kicks);
        Assert.Equal(8, dump.Count(8, TimeSpan.FromSeconds(5)));
        var sw = Stopwatch.StartNew();
        while (ring.InFlight() > 0 && sw.ElapsedMilliseconds < 5000) Thread.Sleep(10);
        Assert.Equal(0, ring.InFlight());
        Assert.True(ring.TryQueue(header, packet));
    }

    [Fact]
    public void PacketsLongerThanTheLinearCopy_ArriveIntact()
    {
        using var director = new TestNetns();
        using var real = new TestNetns();
        var (devA, devB) = TestNetns.CreateVethPair(director, "192.0.2.1/24", real, "192.0.2.2/24");
        using RawIpSocket receiver = real.Run(() => RawIpSocket.OpenReceiver(IpProtocol.IpIp, receiveBufferBytes: 1 << 20));
        int ifindex = director.Run(() => (int)NetworkInterfaces.IndexOf(devA));
        byte[] macB = Convert.FromHexString(real.Exec("-br", "link", "show", devB).Split(' ', StringSplitOptions.RemoveEmptyEntries)[2].Replace(":", ""));
        using var ring = director.Run(() => PacketTxRing.Open(ifindex, mtu: 1500));
        byte[] header = [.. macB, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00];
        int[] sizes = [PacketTxRing.LinearBytes - 14 - 28 - 1, PacketTxRing.LinearBytes, 1000, 1500 - 28 - 20];
        var sent = sizes.Select((n, i) => Encapsulate((ushort)(i + 1), n)).ToArray();
        foreach (var p in sent) Assert.True(ring.TryQueue(header, p));
        Assert.True(director.Run(() => ring.Flush()));
        foreach (var p in sent)
        {
            var got = TunDeviceTests.ReceiveIPv4(receiver, IpProtocol.IpIp, TimeSpan.FromSeconds(5));
            Assert.Equal(Convert.ToHexString(p), Convert.ToHexString(got));
        }
    }

    private static (byte[] Buffer, OutputPacket[] Packets) Batch(int count)
    {
        var buffer = new byte[100 * count];
        var packets = new OutputPacket[count];
        for (int i = 0; i < count; i++)
        {
            byte[] p = Encapsulate((ushort)(i + 1));
            p.CopyTo(buffer, i * 100);
            packets[i] = new OutputPacket { Offset = i * 100, Length = p.Length, NextHop = Real, Kind = OutputKind.Tunnel };
        }
        return (buffer, packets);
    }

    private static byte[] Encapsulate(ushort id, int payload = 7)
    {
        byte[] inner = Packets.Udp(Packets.V4("198.51.100.1"), Packets.V4("203.0.113.10"), 40000, 80,
            Enumerable.Range(0, payload).Select(i => (byte)(i * 7 + id)).ToArray());
        var outer = new byte[inner.Length + Tunnel.Ipv4HeaderLength];
        Tunnel.Encapsulate(inner, outer, Director, Real, EncapKind.Ipip, 0, 0, false, 64, id, 0);
        return outer;
    }
}
