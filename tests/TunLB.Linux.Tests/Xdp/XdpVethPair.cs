using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace TunLB.Linux.Tests.Xdp;

/// <summary>
/// Two fresh namespaces joined by veth: the peer side (<see cref="Peer"/>, 192.0.2.1 / 2001:db8::1) sends and captures
/// whole Ethernet frames with an AF_PACKET socket; the XDP side (<see cref="Xdp"/>, 192.0.2.2 / 2001:db8::2) is where
/// the tests attach the program and bind AF_XDP sockets. Everything is deleted on Dispose, also after a failure.
/// </summary>
internal sealed unsafe class XdpVethPair : IDisposable
{
    public const string PeerAddress = "192.0.2.1", XdpAddress = "192.0.2.2", PeerAddress6 = "2001:db8::1", XdpAddress6 = "2001:db8::2";

    public TestNetns Peer { get; }
    public TestNetns Xdp { get; }
    public string PeerDev { get; }
    public string XdpDev { get; }
    public byte[] PeerMac { get; }
    public byte[] XdpMac { get; }
    /// <summary>ifindex of <see cref="XdpDev"/> inside its namespace.</summary>
    public int XdpIfIndex { get; }
    private readonly int _packetFd;

    public XdpVethPair(int queues = 1)
    {
        Peer = new TestNetns();
        try
        {
            Xdp = new TestNetns();
            PeerDev = "va" + Peer.Name[5..];
            XdpDev = "vb" + Xdp.Name[5..];
            string q = queues.ToString();
            TestNetns.Ip("link", "add", PeerDev, "numtxqueues", q, "numrxqueues", q, "netns", Peer.Name, "type", "veth",
                "peer", "name", XdpDev, "numtxqueues", q, "numrxqueues", q, "netns", Xdp.Name);
            Peer.Exec("addr", "add", PeerAddress + "/24", "dev", PeerDev);
            Xdp.Exec("addr", "add", XdpAddress + "/24", "dev", XdpDev);
            Peer.Exec("addr", "add", PeerAddress6 + "/64", "dev", PeerDev, "nodad");
            Xdp.Exec("addr", "add", XdpAddress6 + "/64", "dev", XdpDev, "nodad");
            Peer.Exec("link", "set", PeerDev, "up");
            Xdp.Exec("link", "set", XdpDev, "up");
            PeerMac = Mac(Peer, PeerDev);
            XdpMac = Mac(Xdp, XdpDev);
            XdpIfIndex = Xdp.Run(() => (int)Interop.if_nametoindex(XdpDev));
            _packetFd = Peer.Run(() => OpenPacketSocket(PeerDev));
        }
        catch
        {
            Xdp?.Dispose();
            Peer.Dispose();
            throw;
        }
    }

    private static byte[] Mac(TestNetns ns, string dev)
    {
        using var doc = JsonDocument.Parse(ns.Exec("-j", "link", "show", "dev", dev));
        return Convert.FromHexString(doc.RootElement[0].GetProperty("address").GetString()!.Replace(":", ""));
    }

    private static int OpenPacketSocket(string dev)
    {
        int fd = Interop.socket(Interop.AF_PACKET, Interop.SOCK_RAW | Interop.SOCK_CLOEXEC, BinaryPrimitives.ReverseEndianness((ushort)Interop.ETH_P_ALL));
        if (fd < 0) throw NativeErrorException.FromLastError("socket(AF_PACKET)");
        Interop.sockaddr_ll sll = default;
        sll.sll_family = Interop.AF_PACKET;
        sll.sll_protocol = BinaryPrimitives.ReverseEndianness(Interop.ETH_P_ALL);
        sll.sll_ifindex = (int)Interop.if_nametoindex(dev);
        if (Interop.bind(fd, &sll, (uint)sizeof(Interop.sockaddr_ll)) < 0) { Interop.close(fd); throw NativeErrorException.FromLastError("bind AF_PACKET"); }
        return fd;
    }

    /// <summary>An Ethernet frame from the peer to the XDP side: MACs, optional 802.1Q tag, EtherType by IP version.</summary>
    public byte[] FrameToXdp(ReadOnlySpan<byte> ipPacket, ushort? vlan = null, ushort tpid = 0x8100) => Frame(XdpMac, PeerMac, ipPacket, vlan, tpid);

    /// <summary>An Ethernet frame from the XDP side to the peer.</summary>
    public byte[] FrameToPeer(ReadOnlySpan<byte> ipPacket) => Frame(PeerMac, XdpMac, ipPacket, null);

    public static byte[] Frame(byte[] dst, byte[] src, ReadOnlySpan<byte> ip, ushort? vlan, ushort tpid = 0x8100)
    {
        int l2 = vlan is null ? 14 : 18;
        var f = new byte[l2 + ip.Length];
        dst.CopyTo(f, 0);
        src.CopyTo(f, 6);
        if (vlan is ushort tag)
        {
            BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(12), tpid);
            BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(14), tag);
        }
        BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(l2 - 2), ip[0] >> 4 == 6 ? (ushort)0x86DD : (ushort)0x0800);
        ip.CopyTo(f.AsSpan(l2));
        return f;
    }

    /// <summary>Sends a whole frame out of the peer's veth end.</summary>
    public void SendFromPeer(ReadOnlySpan<byte> frame)
    {
        fixed (byte* p = frame)
            if (Interop.sendto(_packetFd, p, (nuint)frame.Length, 0, null, 0) != frame.Length) throw NativeErrorException.FromLastError("send AF_PACKET");
    }

    /// <summary>Frames the peer's packet socket sees (both directions) until <paramref name="match"/> has taken <paramref name="count"/> or the time is up.</summary>
    public List<byte[]> CaptureAtPeer(Func<byte[], bool> match, int count, int timeoutMs = 3000)
    {
        var got = new List<byte[]>();
        var buf = new byte[65536];
        long deadline = Environment.TickCount64 + timeoutMs;
        Interop.pollfd pfd = new() { fd = _packetFd, events = Interop.POLLIN };
        while (got.Count < count)
        {
            int left = (int)(deadline - Environment.TickCount64);
            if (left <= 0) break;
            pfd.revents = 0;
            if (Interop.poll(&pfd, 1, left) <= 0) continue;
            fixed (byte* b = buf)
            {
                nint n = Interop.recv(_packetFd, b, (nuint)buf.Length, Interop.MSG_DONTWAIT);
                if (n <= 0) continue;
                var frame = buf.AsSpan(0, (int)n).ToArray();
                if (match(frame)) got.Add(frame);
            }
        }
        return got;
    }

    /// <summary>
    /// Whether a UDP datagram from a socket on the peer to <paramref name="address"/> reaches a socket on the XDP side:
    /// the kernel path (ARP or neighbour discovery first, then the datagram), which the program must leave alone.
    /// </summary>
    public bool KernelDelivers(string address, int port = 4242)
    {
        var ip = System.Net.IPAddress.Parse(address);
        using var receiver = Xdp.Run(() =>
        {
            var s = new System.Net.Sockets.Socket(ip.AddressFamily, System.Net.Sockets.SocketType.Dgram, System.Net.Sockets.ProtocolType.Udp);
            s.Bind(new System.Net.IPEndPoint(ip, port));
            return s;
        });
        using var sender = Peer.Run(() => new System.Net.Sockets.Socket(ip.AddressFamily, System.Net.Sockets.SocketType.Dgram, System.Net.Sockets.ProtocolType.Udp));
        sender.SendTo("kernel"u8.ToArray(), new System.Net.IPEndPoint(ip, port));
        receiver.ReceiveTimeout = 3000;
        var buf = new byte[64];
        try { return receiver.Receive(buf) == 6; }
        catch (System.Net.Sockets.SocketException) { return false; }
    }

    /// <summary>`ip -d link show` of the XDP side's device (shows "prog/xdp" while a program is attached).</summary>
    public string XdpLinkDetails() => Xdp.Exec("-d", "link", "show", "dev", XdpDev);

    public void Dispose()
    {
        Interop.close(_packetFd);
        try { Xdp.Dispose(); }
        finally { Peer.Dispose(); }
    }
}
