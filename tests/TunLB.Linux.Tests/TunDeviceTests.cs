using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using TunLB.Core.Flows;
using TunLB.Core.Packets;

namespace TunLB.Linux.Tests;

/// <summary>TUN devices opened inside private network namespaces (needs root / CAP_NET_ADMIN).</summary>
public sealed class TunDeviceTests
{
    private const string TunAddress = "198.18.0.1";
    private const string Vip = "203.0.113.10";

    /// <summary>Opens a TUN in the namespace, gives it 198.18.0.1/32, sets it up.</summary>
    private static TunDevice OpenTun(TestNetns ns)
    {
        var tun = ns.Run(() => TunDevice.Open("tlb%d", out _));
        try
        {
            ns.Exec("addr", "add", TunAddress + "/32", "dev", tun.Name);
            ns.Exec("link", "set", tun.Name, "up");
            return tun;
        }
        catch
        {
            tun.Dispose();
            throw;
        }
    }

    /// <summary>Receives until an IPv4 packet of <paramref name="protocol"/> shows up (skipping e.g. IPv6 RS/MLD).</summary>
    internal static byte[] ReceiveIPv4(IPacketReceiver port, byte protocol, TimeSpan timeout)
    {
        var buffer = new byte[65536];
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < timeout)
        {
            int n = port.Receive(buffer, 100);
            Assert.True(n >= 0, $"port closed (errno {port.LastError})");
            if (n >= 20 && buffer[0] >> 4 == 4 && buffer[9] == protocol) return buffer[..n];
        }
        throw new TimeoutException($"no IPv4 protocol {protocol} packet on {port.Name} within {timeout}");
    }

    [Fact]
    public void Open_ReportsKernelChosenName()
    {
        using var ns = new TestNetns();
        using var tun = ns.Run(() => TunDevice.Open("tlb%d", out string actual));
        Assert.Matches("^tlb[0-9]+$", tun.Name);
        Assert.Contains(tun.Name, ns.Exec("link", "show", "dev", tun.Name));
    }

    [Fact]
    public void Open_WithNapi_IsSupportedForTun()
    {
        using var ns = new TestNetns();
        using var tun = ns.Run(() => TunDevice.Open("tlb%d", out _, napi: true));
        Assert.Contains(tun.Name, ns.Exec("link", "show", "dev", tun.Name));
    }

    [Fact]
    public void Open_InvalidName_ThrowsWithErrnoText()
    {
        using var ns = new TestNetns();
        var e = Assert.Throws<NativeErrorException>(() => ns.Run(() => TunDevice.Open("bad/name", out _)));
        Assert.Equal(Interop.EINVAL, e.Errno);
        Assert.Contains("TUNSETIFF", e.Message);
        Assert.Contains("Invalid argument", e.Message);
        Assert.Throws<ArgumentException>(() => TunDevice.Open("much-too-long-name", out _));
    }

    [Fact]
    public void Open_MultiQueue_SameNameTwice()
    {
        using var ns = new TestNetns();
        using var q0 = ns.Run(() => TunDevice.Open("tlbmq", multiQueue: true));
        using var q1 = ns.Run(() => TunDevice.Open("tlbmq", multiQueue: true));
        Assert.Equal("tlbmq", q0.Name);
        Assert.Equal("tlbmq", q1.Name);
        Assert.Contains("multi_queue", ns.Exec("-d", "link", "show", "dev", "tlbmq"));
    }

    /// <summary>(a) a UDP datagram routed into the TUN comes out of Receive as the IPv4 packet the kernel built.</summary>
    [Fact]
    public void Receive_UdpDatagramRoutedIntoTun()
    {
        using var ns = new TestNetns();
        using var tun = OpenTun(ns);
        ns.Exec("route", "add", Vip + "/32", "dev", tun.Name);

        byte[] payload = Encoding.ASCII.GetBytes("hello through the tun");
        ns.Run(() =>
        {
            using var s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            s.Bind(new IPEndPoint(IPAddress.Parse(TunAddress), 40000));
            s.SendTo(payload, new IPEndPoint(IPAddress.Parse(Vip), 5000));
        });

        byte[] p = ReceiveIPv4(tun, IpProtocol.Udp, TimeSpan.FromSeconds(5));
        Assert.Equal(0x45, p[0]);
        Assert.Equal(p.Length, BinaryPrimitives.ReadUInt16BigEndian(p.AsSpan(2)));
        Assert.Equal(20 + 8 + payload.Length, p.Length);
        Assert.True(Checksum.IsValid(p.AsSpan(0, 20)), "IPv4 header checksum");
        Assert.Equal(Packets.V4(TunAddress), BinaryPrimitives.ReadUInt32BigEndian(p.AsSpan(12)));
        Assert.Equal(Packets.V4(Vip), BinaryPrimitives.ReadUInt32BigEndian(p.AsSpan(16)));
        Assert.Equal(40000, BinaryPrimitives.ReadUInt16BigEndian(p.AsSpan(20)));
        Assert.Equal(5000, BinaryPrimitives.ReadUInt16BigEndian(p.AsSpan(22)));
        Assert.Equal(8 + payload.Length, BinaryPrimitives.ReadUInt16BigEndian(p.AsSpan(24)));
        Assert.Equal(payload, p[28..]);

        Assert.Equal(DropReason.None, PacketParser.ParseIPv4(p, out _));
    }

    /// <summary>(b) an IPv4/UDP packet written into the TUN reaches a UDP socket bound in the namespace.</summary>
    [Fact]
    public void Send_PacketIntoTun_DeliveredToLocalUdpSocket()
    {
        using var ns = new TestNetns();
        using var tun = OpenTun(ns);
        ns.Exec("route", "add", "203.0.113.0/24", "dev", tun.Name); // reverse path for the source

        using var socket = ns.Run(() =>
        {
            var s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            s.Bind(new IPEndPoint(IPAddress.Parse(TunAddress), 5001));
            return s;
        });
        socket.ReceiveTimeout = 5000;

        byte[] payload = Encoding.ASCII.GetBytes("injected");
        byte[] packet = Packets.Udp(Packets.V4("203.0.113.20"), Packets.V4(TunAddress), 40001, 5001, payload);
        Assert.True(tun.Send(packet, default), $"write errno {tun.LastError}");

        var buffer = new byte[1500];
        EndPoint from = new IPEndPoint(IPAddress.Any, 0);
        int n = socket.ReceiveFrom(buffer, ref from);
        Assert.Equal(payload, buffer[..n]);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("203.0.113.20"), 40001), from);
    }

    [Fact]
    public void Receive_TimesOutWithZero()
    {
        using var ns = new TestNetns();
        using var tun = ns.Run(() => TunDevice.Open("tlb%d", out _)); // down: nothing arrives
        var sw = Stopwatch.StartNew();
        Assert.Equal(0, tun.Receive(new byte[2048], 50));
        Assert.InRange(sw.ElapsedMilliseconds, 40, 2000);
    }

    [Fact]
    public void Dispose_UnblocksReceiveInAnotherThread()
    {
        using var ns = new TestNetns();
        var tun = ns.Run(() => TunDevice.Open("tlb%d", out _));
        int result = int.MinValue;
        var started = new ManualResetEventSlim();
        var worker = new Thread(() =>
        {
            var buffer = new byte[2048];
            started.Set();
            result = tun.Receive(buffer, 30_000);
        });
        worker.Start();
        started.Wait();
        Thread.Sleep(100); // let it block in poll
        var sw = Stopwatch.StartNew();
        tun.Dispose();
        Assert.True(worker.Join(TimeSpan.FromSeconds(5)), "Receive did not return after Dispose");
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(2), $"took {sw.Elapsed}");
        Assert.Equal(-1, result);

        Assert.Equal(-1, tun.Receive(new byte[2048], 10));
        Assert.False(tun.Send(new byte[20], default));
        tun.Dispose(); // twice is fine
    }

    [Fact]
    public void HotPath_DoesNotAllocate()
    {
        using var ns = new TestNetns();
        using var tun = OpenTun(ns);
        ns.Exec("route", "add", "203.0.113.0/24", "dev", tun.Name);
        byte[] packet = Packets.Udp(Packets.V4("203.0.113.20"), Packets.V4(TunAddress), 40001, 9, new byte[64]);
        var buffer = new byte[2048];
        IPacketReceiver port = tun;
        var nextHop = IpAddress.Parse("203.0.113.20");

        for (int i = 0; i < 100; i++) { tun.Send(packet, nextHop); port.Receive(buffer, 0); }
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++) { tun.Send(packet, nextHop); port.Receive(buffer, 0); }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
    }
}
