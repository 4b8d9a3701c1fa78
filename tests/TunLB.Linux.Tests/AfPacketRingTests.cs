using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using TunLB.Core.Capture;
using TunLB.Core.Flows;
using TunLB.Core.Packets;

namespace TunLB.Linux.Tests;

/// <summary>
/// The TPACKET_V3 ring between two namespaces joined by veth: a UDP sender in one, the ring in the other. A local sender's
/// packets cross veth with CHECKSUM_PARTIAL, so the ring must complete their checksums.
/// </summary>
public sealed class AfPacketRingTests
{
    private const string SenderAddress = "192.0.2.1", RingAddress = "192.0.2.2";
    private static readonly IpAddress Vip = IpAddress.Parse("203.0.113.10"), Vip2 = IpAddress.Parse("203.0.113.11");

    private static void Send(TestNetns ns, string destination, int count, int size = 100) => ns.Run(() =>
    {
        using var s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        var payload = new byte[size];
        for (int i = 0; i < count; i++) { payload[0] = (byte)i; s.SendTo(payload, new IPEndPoint(IPAddress.Parse(destination), 9)); }
    });

    private static List<byte[]> ReceiveAll(AfPacketRing ring, int atLeast, int timeoutMs = 3000)
    {
        var got = new List<byte[]>();
        var buf = new byte[65536];
        var sw = Stopwatch.StartNew();
        while (sw.ElapsedMilliseconds < timeoutMs && got.Count < atLeast)
        {
            int n = ring.Receive(buf, 100);
            Assert.True(n >= 0, $"Receive failed: errno {ring.LastError}");
            if (n > 0) got.Add(buf.AsSpan(0, n).ToArray());
        }
        // Whatever else is already there.
        for (int n; (n = ring.Receive(buf, 50)) > 0;) got.Add(buf.AsSpan(0, n).ToArray());
        return got;
    }

    [Fact]
    public void Captures_only_VIP_packets_with_completed_checksums_and_follows_filter_updates()
    {
        using var a = new TestNetns();
        using var b = new TestNetns();
        TestNetns.CreateVethPair(a, SenderAddress + "/24", b, RingAddress + "/24");
        a.Exec("route", "add", "203.0.113.0/24", "via", RingAddress);
        using var ring = b.Run(() => AfPacketRing.Open(CaptureBpf.Build([Vip], 0, []), blockCount: 4));

        Send(a, Vip.ToString(), 20);
        Send(a, RingAddress, 5);   // not a VIP
        Send(a, Vip2.ToString(), 5); // not (yet) a VIP
        var got = ReceiveAll(ring, 20);
        Assert.Equal(20, got.Count);
        Assert.All(got, p =>
        {
            Assert.Equal(4, p[0] >> 4);
            Assert.Equal(Vip, IpAddress.FromV4Bytes(p.AsSpan(16)));
            Assert.True(Offload.TransportChecksumValid(p), "UDP checksum must be complete");
        });
        Assert.Equal(Enumerable.Range(0, 20).Select(i => (byte)i), got.Select(p => p[28]));
        Assert.True(ring.ChecksumsCompleted > 0, "veth from a local sender delivers CHECKSUM_PARTIAL packets");

        ring.UpdateFilter(CaptureBpf.Build([Vip2], 0, []));
        Send(a, Vip.ToString(), 5);
        Send(a, Vip2.ToString(), 7);
        got = ReceiveAll(ring, 7);
        Assert.Equal(7, got.Count);
        Assert.All(got, p => Assert.Equal(Vip2, IpAddress.FromV4Bytes(p.AsSpan(16))));
        Assert.Equal(0, ring.DroppedMalformed + ring.DroppedTruncated + ring.DroppedUnsupported);
    }

    [Fact]
    public void Dispose_wakes_a_blocked_Receive_and_later_calls_return_minus_one()
    {
        using var ns = new TestNetns();
        var ring = ns.Run(() => AfPacketRing.Open(CaptureBpf.Build([Vip], 0, []), blockCount: 2, fanoutGroup: 4242));
        int result = 0;
        var t = new Thread(() => result = ring.Receive(new byte[2048], 10_000));
        t.Start();
        Thread.Sleep(200);
        var sw = Stopwatch.StartNew();
        ring.Dispose();
        Assert.True(t.Join(3000));
        Assert.True(sw.ElapsedMilliseconds < 2000);
        Assert.Equal(-1, result);
        Assert.Equal(-1, ring.Receive(new byte[2048], 0));
    }

    [Fact]
    public void Bad_arguments_are_refused_before_any_socket_is_opened()
    {
        Assert.Throws<ArgumentException>(() => AfPacketRing.Open([]));
        Assert.Throws<ArgumentException>(() => AfPacketRing.Open(CaptureBpf.Build([Vip], 0, []), blockSize: 100_000));
        Assert.Throws<ArgumentOutOfRangeException>(() => AfPacketRing.Open(CaptureBpf.Build([Vip], 0, []), fanoutGroup: 70_000));
    }
}
