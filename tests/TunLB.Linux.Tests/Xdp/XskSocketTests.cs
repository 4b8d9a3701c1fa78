using System.Buffers.Binary;
using System.Diagnostics;
using TunLB.Core.Flows;
using TunLB.Linux.Xdp;

namespace TunLB.Linux.Tests.Xdp;

/// <summary>
/// The XDP program and AF_XDP sockets on veth between two fresh namespaces (native XDP, copy mode): VIP packets arrive
/// through the socket byte-exact, the rest reaches the kernel, VIPs change at run time, transmitted frames reach the
/// peer, Dispose detaches. Frames are sent and captured whole with an AF_PACKET socket on the peer.
/// </summary>
public sealed class XskSocketTests
{
    private static readonly IpAddress Vip = IpAddress.Parse("203.0.113.10"), Vip2 = IpAddress.Parse("203.0.113.11"),
        Vip6 = IpAddress.Parse("2001:db8:1::10");

    internal static byte[] Udp4(string destination, ushort sourcePort, byte tag, int payload = 32) =>
        Packets.Udp(Packets.V4(XdpVethPair.PeerAddress), Packets.V4(destination), sourcePort, 9,
            Enumerable.Range(0, payload).Select(i => (byte)(i + tag)).ToArray(), identification: (ushort)(0x1000 + tag));

    /// <summary>An IPv6/UDP packet (checksum left 0: nothing on this path checks it, and the bytes only have to match).</summary>
    internal static byte[] Udp6(IpAddress destination, byte tag, int payload = 32)
    {
        var p = new byte[40 + 8 + payload];
        p[0] = 0x60;
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(4), (ushort)(8 + payload));
        p[6] = 17;
        p[7] = 64;
        IpAddress.Parse(XdpVethPair.PeerAddress6).WriteV6(p.AsSpan(8));
        destination.WriteV6(p.AsSpan(24));
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(40), 4000);
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(42), 9);
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(44), (ushort)(8 + payload));
        for (int i = 0; i < payload; i++) p[48 + i] = (byte)(i + tag);
        return p;
    }

    internal static List<byte[]> ReceiveAll(XskSocket xsk, int atLeast, int timeoutMs = 3000)
    {
        var got = new List<byte[]>();
        var buf = new byte[4096];
        var sw = Stopwatch.StartNew();
        while (sw.ElapsedMilliseconds < timeoutMs && got.Count < atLeast)
        {
            int n = xsk.Receive(buf, 100);
            Assert.True(n >= 0, $"Receive failed: errno {xsk.LastError}");
            if (n > 0) got.Add(buf.AsSpan(0, n).ToArray());
        }
        for (int n; (n = xsk.Receive(buf, 200)) > 0;) got.Add(buf.AsSpan(0, n).ToArray()); // nothing else may come
        return got;
    }

    [Fact]
    public void Vip_packets_arrive_byte_exact_through_the_socket_and_everything_else_reaches_the_kernel()
    {
        using var pair = new XdpVethPair();
        using var xdp = pair.Xdp.Run(() => XdpVipRedirector.Attach(pair.XdpIfIndex, queueCount: 1));
        Assert.Equal(XdpAttachMode.Native, xdp.Mode);
        using var xsk = pair.Xdp.Run(() => XskSocket.Open(pair.XdpIfIndex, 0, xdp));
        Assert.False(xsk.ZeroCopy); // veth has no AF_XDP zero-copy
        xdp.AddVip(Vip);
        xdp.AddVip(Vip6);
        Assert.True(xdp.ContainsVip(Vip) && xdp.ContainsVip(Vip6) && !xdp.ContainsVip(Vip2));

        var expected = new List<byte[]>();
        for (byte i = 0; i < 10; i++)
        {
            var v4 = Udp4(Vip.ToString(), 5000, i);
            var v6 = Udp6(Vip6, i);
            var tagged = Udp4(Vip.ToString(), 5001, (byte)(100 + i));
            var qinq = Udp6(Vip6, (byte)(200 + i));
            pair.SendFromPeer(pair.FrameToXdp(v4));
            pair.SendFromPeer(pair.FrameToXdp(v6));
            pair.SendFromPeer(pair.FrameToXdp(tagged, vlan: 42));
            pair.SendFromPeer(pair.FrameToXdp(qinq, vlan: 43, tpid: 0x88A8));
            pair.SendFromPeer(pair.FrameToXdp(Udp4(Vip2.ToString(), 5002, i)));               // not a VIP
            pair.SendFromPeer(pair.FrameToXdp(Udp4(XdpVethPair.XdpAddress, 5003, i)));        // the interface itself
            pair.SendFromPeer(pair.FrameToXdp(Udp6(IpAddress.Parse(XdpVethPair.XdpAddress6), i)));
            expected.AddRange([v4, v6, tagged, qinq]);
        }
        var got = ReceiveAll(xsk, expected.Count);
        Assert.Equal(expected.Count, got.Count);
        for (int i = 0; i < expected.Count; i++) Assert.True(expected[i].AsSpan().SequenceEqual(got[i]), $"packet {i} differs");
        Assert.Equal(expected.Count, xsk.RxPackets);
        Assert.Equal(0, xsk.DroppedMalformed + xsk.DroppedTruncated);
        var st = xsk.ReadKernelStatistics(); // (TxRingEmpty counts the kernel finding our TX ring empty when polled: not a loss)
        Assert.Equal(0, st.RxDropped + st.RxInvalidDescriptors + st.RxRingFull + st.RxFillRingEmpty);

        // Not VIPs: ARP, neighbour discovery and datagrams to the interface's addresses reach the kernel.
        Assert.True(pair.KernelDelivers(XdpVethPair.XdpAddress));
        Assert.True(pair.KernelDelivers(XdpVethPair.XdpAddress6));
        Assert.Equal(0, xsk.Receive(new byte[4096], 100));
    }

    [Fact]
    public void Vip_changes_take_effect_at_run_time()
    {
        using var pair = new XdpVethPair();
        using var xdp = pair.Xdp.Run(() => XdpVipRedirector.Attach(pair.XdpIfIndex, queueCount: 1));
        using var xsk = pair.Xdp.Run(() => XskSocket.Open(pair.XdpIfIndex, 0, xdp, ringSize: 256));
        void SendBoth(byte tag)
        {
            for (byte i = 0; i < 3; i++)
            {
                pair.SendFromPeer(pair.FrameToXdp(Udp4(Vip.ToString(), 6000, (byte)(tag + i))));
                pair.SendFromPeer(pair.FrameToXdp(Udp4(Vip2.ToString(), 6000, (byte)(tag + i))));
            }
        }
        IpAddress Destination(byte[] p) => IpAddress.FromV4Bytes(p.AsSpan(16));

        xdp.AddVip(Vip);
        SendBoth(0);
        Assert.All(ReceiveAll(xsk, 3).Select(Destination), d => Assert.Equal(Vip, d));

        Assert.True(xdp.RemoveVip(Vip));
        Assert.False(xdp.RemoveVip(Vip));
        Assert.False(xdp.ContainsVip(Vip));
        xdp.AddVip(Vip2);
        SendBoth(10);
        var got = ReceiveAll(xsk, 3);
        Assert.Equal(3, got.Count);
        Assert.All(got.Select(Destination), d => Assert.Equal(Vip2, d));

        xdp.SetVips([Vip, Vip6]);
        Assert.True(xdp.ContainsVip(Vip) && xdp.ContainsVip(Vip6) && !xdp.ContainsVip(Vip2));
        Assert.Equal(new[] { Vip, Vip6 }.Order(Comparer<IpAddress>.Create((a, b) => a.Lo.CompareTo(b.Lo))),
                     xdp.Vips.Order(Comparer<IpAddress>.Create((a, b) => a.Lo.CompareTo(b.Lo))));
        SendBoth(20);
        got = ReceiveAll(xsk, 3);
        Assert.Equal(3, got.Count);
        Assert.All(got.Select(Destination), d => Assert.Equal(Vip, d));
    }

    [Fact]
    public void Frames_sent_through_the_TX_ring_reach_the_peer_byte_exact()
    {
        using var pair = new XdpVethPair();
        using var xdp = pair.Xdp.Run(() => XdpVipRedirector.Attach(pair.XdpIfIndex, queueCount: 1));
        using var xsk = pair.Xdp.Run(() => XskSocket.Open(pair.XdpIfIndex, 0, xdp, ringSize: 64));
        var header = XdpVethPair.Frame(pair.PeerMac, pair.XdpMac, Udp4("192.0.2.1", 0, 0), null).AsSpan(0, 14).ToArray();
        var expected = new List<byte[]>();
        // 100 frames: more than the 64 TX frames (Send reclaims), and more than 32 per Flush (copy mode kicks per 32).
        for (int batch = 0; batch < 4; batch++)
        {
            for (int i = 0; i < 25; i++)
            {
                byte tag = (byte)(batch * 25 + i);
                var ip = Packets.Udp(Packets.V4(XdpVethPair.XdpAddress), Packets.V4(XdpVethPair.PeerAddress), 7777, 7777,
                    Enumerable.Range(0, 40 + tag).Select(b => (byte)(b ^ tag)).ToArray(), identification: tag);
                var frame = pair.FrameToPeer(ip);
                Assert.True(i % 2 == 0 ? xsk.Send(frame) : xsk.Send(header, ip), $"Send {tag}: no TX frame");
                expected.Add(frame);
            }
            Assert.Equal(25, xsk.Pending);
            Assert.True(xsk.Flush(), $"Flush: errno {xsk.LastError}");
            Assert.Equal(0, xsk.Pending);
        }
        bool FromXsk(byte[] f) => f.Length > 14 + 28 && f.AsSpan(6, 6).SequenceEqual(pair.XdpMac) &&
                                  BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(14 + 22)) == 7777;
        var got = pair.CaptureAtPeer(FromXsk, expected.Count);
        Assert.Equal(expected.Count, got.Count);
        for (int i = 0; i < expected.Count; i++) Assert.True(expected[i].AsSpan().SequenceEqual(got[i]), $"frame {i} differs");
        Assert.True(xsk.TxKicks >= 4, $"{xsk.TxKicks} kicks");
        var sw = Stopwatch.StartNew();
        while (xsk.TxCompleted < expected.Count && sw.ElapsedMilliseconds < 2000) { xsk.Flush(); Thread.Sleep(10); }
        Assert.Equal(expected.Count, xsk.TxCompleted);
        Assert.Equal(0, xsk.TxNoFrame + xsk.TxTooBig + xsk.TxKickErrors);
        Assert.False(xsk.Send(new byte[XskSocket.MaxFrameLength + 1]));
        Assert.Equal(1, xsk.TxTooBig);
    }

    [Fact]
    public void Dispose_wakes_a_blocked_Receive_and_detaches_the_program()
    {
        using var pair = new XdpVethPair();
        var xdp = pair.Xdp.Run(() => XdpVipRedirector.Attach(pair.XdpIfIndex, queueCount: 1));
        var xsk = pair.Xdp.Run(() => XskSocket.Open(pair.XdpIfIndex, 0, xdp, ringSize: 64));
        try
        {
            Assert.Contains("prog/xdp", pair.XdpLinkDetails());
            int result = 0;
            var t = new Thread(() => result = xsk.Receive(new byte[4096], 10_000));
            t.Start();
            Thread.Sleep(200);
            var sw = Stopwatch.StartNew();
            xsk.Dispose();
            Assert.True(t.Join(3000));
            Assert.True(sw.ElapsedMilliseconds < 2000);
            Assert.Equal(-1, result);
            Assert.Equal(-1, xsk.Receive(new byte[4096], 0));
            Assert.False(xsk.Flush());
            Assert.False(xsk.Send(new byte[60]));

            xdp.Dispose();
            Assert.False(xdp.IsAttached);
            // close(2) of the link detaches at once, unless a child forked by another thread at that moment still holds
            // the descriptor until its exec closes it (other tests start `ip` processes in parallel): allow for that.
            var sw2 = Stopwatch.StartNew();
            while (pair.XdpLinkDetails().Contains("xdp") && sw2.ElapsedMilliseconds < 3000) Thread.Sleep(20);
            Assert.DoesNotContain("xdp", pair.XdpLinkDetails());
            Assert.True(pair.KernelDelivers(XdpVethPair.XdpAddress));
        }
        finally { xsk.Dispose(); xdp.Dispose(); }
    }

    [Fact]
    public void Generic_mode_steers_the_same_way()
    {
        using var pair = new XdpVethPair();
        using var xdp = pair.Xdp.Run(() => XdpVipRedirector.Attach(pair.XdpDev, queueCount: 1, XdpAttachMode.Generic));
        Assert.Equal(XdpAttachMode.Generic, xdp.Mode);
        Assert.Contains("xdpgeneric", pair.XdpLinkDetails());
        using var xsk = pair.Xdp.Run(() => XskSocket.Open(pair.XdpIfIndex, 0, xdp, ringSize: 64));
        xdp.AddVip(Vip);
        var expected = Enumerable.Range(0, 5).Select(i => Udp4(Vip.ToString(), 5000, (byte)i)).ToList();
        foreach (var p in expected)
        {
            pair.SendFromPeer(pair.FrameToXdp(p));
            pair.SendFromPeer(pair.FrameToXdp(Udp4(Vip2.ToString(), 5000, 0)));
        }
        var got = ReceiveAll(xsk, expected.Count);
        Assert.Equal(expected.Count, got.Count);
        for (int i = 0; i < expected.Count; i++) Assert.True(expected[i].AsSpan().SequenceEqual(got[i]), $"packet {i} differs");
        Assert.True(pair.KernelDelivers(XdpVethPair.XdpAddress));
    }

    [Fact]
    public void Zero_copy_is_refused_on_veth_and_auto_falls_back_to_copy_mode()
    {
        using var pair = new XdpVethPair();
        using var xdp = pair.Xdp.Run(() => XdpVipRedirector.Attach(pair.XdpIfIndex, queueCount: 1));
        var e = Assert.Throws<NativeErrorException>(() => pair.Xdp.Run(() => XskSocket.Open(pair.XdpIfIndex, 0, xdp, XskBindMode.ZeroCopy, 64)));
        Assert.Contains("ZeroCopy", e.Message);
        using (var copy = pair.Xdp.Run(() => XskSocket.Open(pair.XdpIfIndex, 0, xdp, XskBindMode.Copy, 64))) Assert.False(copy.ZeroCopy);
        using var auto = pair.Xdp.Run(() => XskSocket.Open(pair.XdpIfIndex, 0, xdp, XskBindMode.Auto, 64));
        Assert.False(auto.ZeroCopy);
        Assert.Contains("copy mode", auto.Name);
    }

    [Fact]
    public void A_program_the_verifier_refuses_reports_its_log()
    {
        // Reads a packet byte without the bounds check the verifier demands.
        Interop.bpf_insn[] bad =
        [
            new(Interop.BPF_LDX | Interop.BPF_W | Interop.BPF_MEM, 2, 1, 0, 0),
            new(Interop.BPF_LDX | Interop.BPF_B | Interop.BPF_MEM, 0, 2, 0, 0),
            new(Interop.BPF_JMP | Interop.BPF_EXIT, 0, 0, 0, 0),
        ];
        var e = Assert.Throws<NativeErrorException>(() => BpfProgram.LoadXdp(bad, "tunlb_bad"));
        Assert.Equal(Interop.EACCES, e.Errno);
        Assert.Contains("verifier log", e.Message);
        Assert.Contains("invalid access to packet", e.Message);
    }
}
