using System.Buffers.Binary;
using System.Text;
using TunLB.Core.Flows;
using TunLB.Core.Packets;

namespace TunLB.Linux.Tests;

/// <summary>
/// (c) IPIP packets built in user space, sent through an IPPROTO_RAW socket in one namespace and received on an
/// IPPROTO_IPIP raw socket in another, across a veth pair. No ipip module is involved.
/// </summary>
public sealed class RawIpSocketTests
{
    private const string DirectorAddress = "192.0.2.1";
    private const string RealServerAddress = "192.0.2.2";

    private sealed class Pair : IDisposable
    {
        public readonly TestNetns Director = new();
        public readonly TestNetns RealServer;
        public RawIpSocket? Sender, Receiver;

        public Pair()
        {
            try
            {
                RealServer = new TestNetns();
                TestNetns.CreateVethPair(Director, DirectorAddress + "/24", RealServer, RealServerAddress + "/24");
                Receiver = RealServer.Run(() => RawIpSocket.OpenReceiver(IpProtocol.IpIp, receiveBufferBytes: 1 << 20));
                Sender = Director.Run(() => RawIpSocket.OpenSender());
            }
            catch
            {
                Dispose();
                throw;
            }
        }

        public string RealServerDevice => "vb" + RealServer.Name[5..];

        public void Dispose()
        {
            Sender?.Dispose();
            Receiver?.Dispose();
            try { RealServer?.Dispose(); }
            finally { Director.Dispose(); }
        }
    }

    private static byte[] Encapsulate(string outerSource, string outerDestination, ushort id, string innerDestination = "203.0.113.10")
    {
        byte[] inner = Packets.Udp(Packets.V4("198.51.100.1"), Packets.V4(innerDestination), 40000, 80,
            Encoding.ASCII.GetBytes("inner payload"));
        var outer = new byte[inner.Length + Tunnel.Ipv4HeaderLength];
        int n = Tunnel.Encapsulate(inner, outer, IpAddress.Parse(outerSource), IpAddress.Parse(outerDestination), EncapKind.Ipip, 0, 0, false, 64, id, 0);
        Assert.Equal(outer.Length, n);
        return outer;
    }

    [Fact]
    public void IpipPacket_ArrivesByteIdentical()
    {
        using var pair = new Pair();
        byte[] sent = Encapsulate(DirectorAddress, RealServerAddress, 0x1234);

        Assert.True(pair.Sender!.Send(sent, IpAddress.Parse(RealServerAddress)), $"sendto errno {pair.Sender.LastError}");
        byte[] received = TunDeviceTests.ReceiveIPv4(pair.Receiver!, IpProtocol.IpIp, TimeSpan.FromSeconds(5));

        // We supply a correct checksum, total length and a non-zero ID, and the hop is direct (no TTL decrement),
        // so the kernel changes nothing.
        Assert.Equal(Convert.ToHexString(sent), Convert.ToHexString(received));
        Assert.Equal(DropReason.None, Ipip.DecapsulateV4(received, out var outerSource, out int off, out int len));
        Assert.Equal(IpAddress.Parse(DirectorAddress), outerSource);
        Assert.Equal(sent[20..], received[off..(off + len)]);

        // With no ipip module, the raw socket taking the packet keeps the kernel from answering protocol-unreachable.
        Assert.Equal(0, IcmpCounter(pair.RealServer, "OutDestUnreachs"));
    }

    [Fact]
    public void SendMany_SendsEveryPacketInOrderWithOneCall()
    {
        using var pair = new Pair();
        // Five IPIP packets with distinct IDs laid out in one buffer, as the director's worker batches them.
        var buffer = new byte[4096];
        var meta = new TunLB.Core.Packets.OutputPacket[5];
        int offset = 0;
        for (int i = 0; i < meta.Length; i++)
        {
            byte[] p = Encapsulate(DirectorAddress, RealServerAddress, (ushort)(0x2000 + i));
            p.CopyTo(buffer, offset);
            meta[i] = new TunLB.Core.Packets.OutputPacket { Offset = offset, Length = p.Length, NextHop = IpAddress.Parse(RealServerAddress) };
            offset += p.Length + 3; // not contiguous on purpose
        }

        Assert.Equal(meta.Length, pair.Sender!.SendMany(buffer, meta));
        for (int i = 0; i < meta.Length; i++)
        {
            byte[] received = TunDeviceTests.ReceiveIPv4(pair.Receiver!, IpProtocol.IpIp, TimeSpan.FromSeconds(5));
            Assert.Equal(Convert.ToHexString(buffer, meta[i].Offset, meta[i].Length), Convert.ToHexString(received));
        }
    }

    private static long IcmpCounter(TestNetns ns, string name) => ns.Counter("snmp", "Icmp", name);

    [Fact]
    public void WithoutReceiver_KernelAnswersProtocolUnreachable()
    {
        using var pair = new Pair();
        pair.Receiver!.Dispose();
        // Destination unreachable is rate limited (icmp_ratemask), per peer and by a randomized token bucket: once in a
        // full run the single message was suppressed. What is judged here is the answer, not the limiter: off in this
        // namespace.
        pair.RealServer.Run(() => File.WriteAllText("/proc/sys/net/ipv4/icmp_ratemask", "0"));
        Assert.True(pair.Sender!.Send(Encapsulate(DirectorAddress, RealServerAddress, 0x5555), IpAddress.Parse(RealServerAddress)));
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (IcmpCounter(pair.RealServer, "OutDestUnreachs") == 0 && DateTime.UtcNow < deadline) Thread.Sleep(20);
        Assert.True(IcmpCounter(pair.RealServer, "OutDestUnreachs") == 1,
            $"OutDestUnreachs {IcmpCounter(pair.RealServer, "OutDestUnreachs")}, OutRateLimitGlobal {IcmpCounter(pair.RealServer, "OutRateLimitGlobal")}, " +
            $"OutRateLimitHost {IcmpCounter(pair.RealServer, "OutRateLimitHost")}");
    }

    [Fact]
    public void KernelFillsChecksumTotalLengthIdAndSource_WhenLeftZero()
    {
        using var pair = new Pair();
        byte[] sent = Encapsulate(DirectorAddress, RealServerAddress, id: 0);
        BinaryPrimitives.WriteUInt16BigEndian(sent.AsSpan(6), 0);   // clear DF: the kernel only picks an ID for non-DF packets
        BinaryPrimitives.WriteUInt16BigEndian(sent.AsSpan(10), 0);  // checksum
        BinaryPrimitives.WriteUInt16BigEndian(sent.AsSpan(2), 1);   // bogus total length
        BinaryPrimitives.WriteUInt32BigEndian(sent.AsSpan(12), 0);  // source 0.0.0.0

        Assert.True(pair.Sender!.Send(sent, IpAddress.Parse(RealServerAddress)), $"sendto errno {pair.Sender.LastError}");
        byte[] received = TunDeviceTests.ReceiveIPv4(pair.Receiver!, IpProtocol.IpIp, TimeSpan.FromSeconds(5));

        Assert.Equal(sent.Length, received.Length);
        Assert.Equal(sent.Length, BinaryPrimitives.ReadUInt16BigEndian(received.AsSpan(2)));
        Assert.True(Checksum.IsValid(received.AsSpan(0, 20)));
        Assert.Equal(Packets.V4(DirectorAddress), BinaryPrimitives.ReadUInt32BigEndian(received.AsSpan(12)));
        Assert.Equal(sent[20..], received[20..]);
    }

    [Fact]
    public void DfPacketWithZeroId_KeepsIdZero()
    {
        using var pair = new Pair();
        byte[] sent = Encapsulate(DirectorAddress, RealServerAddress, id: 0); // inner has DF, copied to the outer header
        Assert.Equal(0x40, sent[6] & 0x40);

        Assert.True(pair.Sender!.Send(sent, IpAddress.Parse(RealServerAddress)));
        byte[] received = TunDeviceTests.ReceiveIPv4(pair.Receiver!, IpProtocol.IpIp, TimeSpan.FromSeconds(5));
        Assert.Equal(0, BinaryPrimitives.ReadUInt16BigEndian(received.AsSpan(4)));
        Assert.Equal(Convert.ToHexString(sent), Convert.ToHexString(received));
    }

    /// <summary>sendto's address picks the route; the header's destination can be an address the sender has no route to.</summary>
    [Fact]
    public void NextHopSelectsRoute_NotHeaderDestination()
    {
        using var pair = new Pair();
        pair.RealServer.Exec("addr", "add", "198.51.100.7/32", "dev", pair.RealServerDevice);
        Assert.DoesNotContain("198.51.100", pair.Director.Exec("route", "show"));

        byte[] sent = Encapsulate(DirectorAddress, "198.51.100.7", 0x2222);
        Assert.True(pair.Sender!.Send(sent, IpAddress.Parse(RealServerAddress)), $"sendto errno {pair.Sender.LastError}");
        byte[] received = TunDeviceTests.ReceiveIPv4(pair.Receiver!, IpProtocol.IpIp, TimeSpan.FromSeconds(5));
        Assert.Equal(Convert.ToHexString(sent), Convert.ToHexString(received));

        // Without a usable next hop the send fails with ENETUNREACH and no exception.
        Assert.False(pair.Sender.Send(sent, IpAddress.Parse("198.51.100.7")));
        Assert.Equal(101 /* ENETUNREACH */, pair.Sender.LastError);
    }

    [Fact]
    public void BoundReceiver_GetsOnlyItsAddress()
    {
        using var pair = new Pair();
        pair.RealServer.Exec("addr", "add", "198.51.100.7/32", "dev", pair.RealServerDevice);
        // bind(2) needs the address to be local already (EADDRNOTAVAIL otherwise).
        using var bound = pair.RealServer.Run(() => RawIpSocket.OpenReceiver(IpProtocol.IpIp, IpAddress.Parse("198.51.100.7")));
        var nextHop = IpAddress.Parse(RealServerAddress);

        Assert.True(pair.Sender!.Send(Encapsulate(DirectorAddress, RealServerAddress, 0x3333), nextHop));
        Assert.True(pair.Sender.Send(Encapsulate(DirectorAddress, "198.51.100.7", 0x4444), nextHop));

        byte[] received = TunDeviceTests.ReceiveIPv4(bound, IpProtocol.IpIp, TimeSpan.FromSeconds(5));
        Assert.Equal(0x4444, BinaryPrimitives.ReadUInt16BigEndian(received.AsSpan(4)));
        Assert.Equal(0, bound.Receive(new byte[2048], 200));

        // The unbound receiver saw both.
        Assert.Equal(0x3333, BinaryPrimitives.ReadUInt16BigEndian(TunDeviceTests.ReceiveIPv4(pair.Receiver!, IpProtocol.IpIp, TimeSpan.FromSeconds(5)).AsSpan(4)));
        Assert.Equal(0x4444, BinaryPrimitives.ReadUInt16BigEndian(TunDeviceTests.ReceiveIPv4(pair.Receiver!, IpProtocol.IpIp, TimeSpan.FromSeconds(5)).AsSpan(4)));
    }

    [Fact]
    public void ReceiveBuffer_IsRaised()
    {
        using var ns = new TestNetns();
        using var r = ns.Run(() => RawIpSocket.OpenReceiver(IpProtocol.IpIp));
        int actual = r.SetReceiveBufferSize(4 << 20);
        Assert.True(actual >= 4 << 20, $"SO_RCVBUF {actual}");
        Assert.Equal(actual, r.ReceiveBufferSize);
    }

    [Fact]
    public void Ipv6NextHop_FailsWithoutThrowing()
    {
        using var ns = new TestNetns();
        using var s = ns.Run(() => RawIpSocket.OpenSender());
        Assert.False(s.Send(new byte[40], IpAddress.Parse("2001:db8::1")));
        Assert.Equal(Interop.EAFNOSUPPORT, s.LastError);
        Assert.Equal(0, s.Receive(new byte[100], 0));
        s.Dispose();
        Assert.Equal(-1, s.Receive(new byte[100], 0));
    }

    [Fact]
    public void HotPath_DoesNotAllocate()
    {
        using var pair = new Pair();
        byte[] sent = Encapsulate(DirectorAddress, RealServerAddress, 0x1234);
        var buffer = new byte[2048];
        RawIpSocket tx = pair.Sender!; IPacketReceiver rx = pair.Receiver!;
        var nextHop = IpAddress.Parse(RealServerAddress);

        for (int i = 0; i < 50; i++) { tx.Send(sent, nextHop); rx.Receive(buffer, 100); }
        long before = GC.GetAllocatedBytesForCurrentThread();
        int received = 0;
        for (int i = 0; i < 500; i++) { tx.Send(sent, nextHop); if (rx.Receive(buffer, 100) > 0) received++; }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
        Assert.True(received > 400, $"received {received}/500");
    }
}
