using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using TunLB.Core.Flows;
using TunLB.Core.Packets;
using TunLB.Linux.Xdp;

namespace TunLB.Linux.Tests.Xdp;

/// <summary>
/// The real server's XDP decapsulation in the kernel: an IPIP frame from a director to this host for a VIP reaches a
/// UDP socket bound to the VIP as the bare inner datagram; anything else (unknown director, outer destination not ours,
/// another VIP) passes unchanged and reaches a raw protocol-4 socket, which is where the agent's user-space path reads.
/// </summary>
public sealed class XdpDecapTests
{
    private const string Vip = "203.0.113.10", OtherVip = "203.0.113.11", Client = "198.51.100.7";
    private const string Vip6 = "2001:db8:10::10", OtherVip6 = "2001:db8:10::11", Client6 = "2001:db8:c::7";

    private static byte[] Inner6(string destination, byte tag) =>
        Packets.Udp6(Client6, destination, 5555, 4242, Enumerable.Range(0, 48).Select(i => (byte)(i ^ tag)).ToArray());

    private static byte[] Inner(string destination, byte tag) =>
        Packets.Udp(Packets.V4(Client), Packets.V4(destination), 5555, 4242, Enumerable.Range(0, 40).Select(i => (byte)(i ^ tag)).ToArray());

    private static byte[] Ipip(string source, string destination, byte[] inner, byte protocol = IpProtocol.IpIp)
    {
        var p = new byte[20 + inner.Length];
        p[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(2), (ushort)p.Length);
        p[8] = 64;
        p[9] = protocol;
        BinaryPrimitives.WriteUInt32BigEndian(p.AsSpan(12), Packets.V4(source));
        BinaryPrimitives.WriteUInt32BigEndian(p.AsSpan(16), Packets.V4(destination));
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(10), Checksum.Compute(p.AsSpan(0, 20)));
        inner.CopyTo(p, 20);
        return p;
    }

    /// <summary>Up to <paramref name="count"/> packets from a raw socket, waiting at most about 4 s.</summary>
    private static List<byte[]> ReceiveUpTo(IPacketReceiver raw, int count)
    {
        var buf = new byte[2048];
        var seen = new List<byte[]>();
        for (int i = 0; i < 20 && seen.Count < count; i++)
        {
            int r = raw.Receive(buf, 200);
            if (r > 0) seen.Add(buf.AsSpan(0, r).ToArray());
        }
        return seen;
    }

    [Fact]
    public void Tunnels_from_a_director_to_a_vip_arrive_decapsulated_and_everything_else_passes_untouched()
    {
        using var pair = new XdpVethPair();
        // The VIPs on lo, a route back to the client (reverse-path filtering), as on a real server.
        pair.Xdp.Exec("addr", "add", Vip + "/32", "dev", "lo");
        pair.Xdp.Exec("addr", "add", OtherVip + "/32", "dev", "lo");
        pair.Xdp.Exec("route", "add", "198.51.100.0/24", "via", XdpVethPair.PeerAddress);
        using var decap = pair.Xdp.Run(() => XdpDecapsulator.Load());
        var mode = pair.Xdp.Run(() => decap.Attach(pair.XdpDev));
        Assert.Equal(XdpAttachMode.Native, mode); // veth has native XDP
        Assert.Contains("prog/xdp", pair.XdpLinkDetails());
        decap.SetDirectors([IpAddress.Parse(XdpVethPair.PeerAddress)]);
        decap.SetLocalAddresses([IpAddress.Parse(XdpVethPair.XdpAddress)]);
        decap.SetVips([IpAddress.Parse(Vip)]);

        using var udp = pair.Xdp.Run(() =>
        {
            var s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            s.Bind(new IPEndPoint(IPAddress.Any, 4242));
            s.ReceiveTimeout = 3000;
            return s;
        });
        using var raw = pair.Xdp.Run(() => RawIpSocket.OpenReceiver(IpProtocol.IpIp));

        // Accepted: the inner datagram reaches the VIP's socket with the client as source, the raw socket sees nothing.
        var good = Inner(Vip, 1);
        pair.SendFromPeer(pair.FrameToXdp(Ipip(XdpVethPair.PeerAddress, XdpVethPair.XdpAddress, good)));
        var buf = new byte[256];
        EndPoint from = new IPEndPoint(IPAddress.Any, 0);
        int n = udp.ReceiveFrom(buf, ref from);
        Assert.Equal(40, n);
        Assert.Equal(good.AsSpan(28).ToArray(), buf.AsSpan(0, n).ToArray());
        Assert.Equal(IPAddress.Parse(Client), ((IPEndPoint)from).Address);
        Assert.Equal((1L, (long)good.Length), decap.Counters());

        // Not ours to decapsulate: unknown director, outer destination not this host's, a VIP not configured.
        byte[][] passing =
        [
            Ipip("192.0.2.99", XdpVethPair.XdpAddress, Inner(Vip, 2)),
            Ipip(XdpVethPair.PeerAddress, "192.0.2.77", Inner(Vip, 3)),
            Ipip(XdpVethPair.PeerAddress, XdpVethPair.XdpAddress, Inner(OtherVip, 4)),
        ];
        pair.Xdp.Exec("addr", "add", "192.0.2.77/32", "dev", "lo"); // local, but not in the map
        foreach (var p in passing) pair.SendFromPeer(pair.FrameToXdp(p));
        var rawBuf = new byte[2048];
        var seen = ReceiveUpTo(raw, passing.Length);
        Assert.Equal(passing.Length, seen.Count);
        for (int i = 0; i < passing.Length; i++)
            Assert.True(passing[i].AsSpan(12).SequenceEqual(seen[i].AsSpan(12)), $"passing packet {i} changed"); // from the addresses on (the kernel may rewrite tot_len/id)
        Assert.Equal((1L, (long)good.Length), decap.Counters());
        udp.ReceiveTimeout = 300;
        Assert.Throws<SocketException>(() => udp.Receive(buf));

        // A damaged outer header (one bit of its checksum flipped) is not decapsulated: it goes to the kernel as it
        // came, which drops it and counts a checksum error, as without XDP. Neither socket sees it.
        long csumErrors = pair.Xdp.Counter("netstat", "IpExt", "InCsumErrors");
        var damaged = Ipip(XdpVethPair.PeerAddress, XdpVethPair.XdpAddress, Inner(Vip, 5));
        damaged[10] ^= 0x01;
        pair.SendFromPeer(pair.FrameToXdp(damaged));
        long after = csumErrors;
        for (int i = 0; i < 40 && after == csumErrors; i++)
        {
            Thread.Sleep(50);
            after = pair.Xdp.Counter("netstat", "IpExt", "InCsumErrors");
        }
        Assert.Equal(csumErrors + 1, after);
        Assert.Throws<SocketException>(() => udp.Receive(buf));
        Assert.True(raw.Receive(rawBuf, 200) <= 0, "the damaged tunnel reached the raw socket");
        Assert.Equal((1L, (long)good.Length), decap.Counters());

        // A device that already has an XDP program refuses a second one (the agent then names it and leaves that
        // device to its raw sockets).
        using (var second = pair.Xdp.Run(() => XdpDecapsulator.Load()))
            Assert.Throws<NativeErrorException>(() => pair.Xdp.Run(() => second.Attach(pair.XdpDev)));

        // Detached on Dispose: nothing left on the device.
        decap.Dispose();
        Assert.DoesNotContain("prog/xdp", pair.XdpLinkDetails());
    }

    /// <summary>Native is what veth and XDP-capable NICs take; generic (skb) is what every other device gets, a VLAN device among them.</summary>
    [Theory]
    [InlineData(XdpAttachMode.Native)]
    [InlineData(XdpAttachMode.Generic)]
    public void Either_family_inside_either_family_arrives_decapsulated_and_nested_or_foreign_tunnels_pass(XdpAttachMode mode)
    {
        using var pair = new XdpVethPair();
        pair.Xdp.Exec("addr", "add", Vip + "/32", "dev", "lo");
        pair.Xdp.Exec("-6", "addr", "add", Vip6 + "/128", "dev", "lo");
        pair.Xdp.Exec("-6", "addr", "add", OtherVip6 + "/128", "dev", "lo");
        pair.Xdp.Exec("route", "add", "198.51.100.0/24", "via", XdpVethPair.PeerAddress);
        pair.Xdp.Exec("-6", "route", "add", "2001:db8:c::/64", "via", XdpVethPair.PeerAddress6);
        using var decap = pair.Xdp.Run(() => XdpDecapsulator.Load());
        Assert.Equal(mode, pair.Xdp.Run(() => decap.Attach(pair.XdpDev, mode)));
        decap.SetDirectors([IpAddress.Parse(XdpVethPair.PeerAddress), IpAddress.Parse(XdpVethPair.PeerAddress6)]);
        decap.SetLocalAddresses([IpAddress.Parse(XdpVethPair.XdpAddress), IpAddress.Parse(XdpVethPair.XdpAddress6)]);
        decap.SetVips([IpAddress.Parse(Vip), IpAddress.Parse(Vip6)]);

        Socket Udp(AddressFamily family) => pair.Xdp.Run(() =>
        {
            var s = new Socket(family, SocketType.Dgram, ProtocolType.Udp);
            if (family == AddressFamily.InterNetworkV6) s.DualMode = false;
            s.Bind(new IPEndPoint(family == AddressFamily.InterNetwork ? IPAddress.Any : IPAddress.IPv6Any, 4242));
            s.ReceiveTimeout = 3000;
            return s;
        });
        using var udp4 = Udp(AddressFamily.InterNetwork);
        using var udp6 = Udp(AddressFamily.InterNetworkV6);
        using var raw4 = pair.Xdp.Run(() => RawIpSocket.OpenReceiver(IpProtocol.IpIp));
        using var raw6 = pair.Xdp.Run(() => RawIp6Socket.OpenReceiver(IpProtocol.Ipv6));

        // Accepted, each reaching the VIP's socket of its own family with the client as source: IPv6 in IPv6, IPv4 in
        // IPv6, IPv6 in IPv4.
        var sixInSix = Inner6(Vip6, 1);
        var fourInSix = Inner(Vip, 2);
        var sixInFour = Inner6(Vip6, 3);
        pair.SendFromPeer(pair.FrameToXdp(Packets.Ip6(XdpVethPair.PeerAddress6, XdpVethPair.XdpAddress6, IpProtocol.Ipv6, sixInSix)));
        pair.SendFromPeer(pair.FrameToXdp(Packets.Ip6(XdpVethPair.PeerAddress6, XdpVethPair.XdpAddress6, IpProtocol.IpIp, fourInSix)));
        pair.SendFromPeer(pair.FrameToXdp(Ipip(XdpVethPair.PeerAddress, XdpVethPair.XdpAddress, sixInFour, IpProtocol.Ipv6)));
        var buf = new byte[256];
        foreach (var (socket, inner, client, headerLength) in new[] { (udp6, sixInSix, Client6, 48), (udp4, fourInSix, Client, 28), (udp6, sixInFour, Client6, 48) })
        {
            EndPoint from = new IPEndPoint(socket.AddressFamily == AddressFamily.InterNetwork ? IPAddress.Any : IPAddress.IPv6Any, 0);
            int n = socket.ReceiveFrom(buf, ref from);
            Assert.Equal(inner.AsSpan(headerLength).ToArray(), buf.AsSpan(0, n).ToArray());
            Assert.Equal(IPAddress.Parse(client), ((IPEndPoint)from).Address);
        }
        long innerBytes = sixInSix.Length + fourInSix.Length + sixInFour.Length;
        Assert.Equal((3L, innerBytes), decap.Counters());

        // Not ours to decapsulate: an unknown IPv6 director, an IPv6 VIP that is local but not configured, an IPv6 tunnel
        // nested in one (refused, as the agent refuses it). The raw IPv6 socket, where the agent reads, gets each payload.
        byte[][] passing6 =
        [
            Inner6(Vip6, 4),
            Inner6(OtherVip6, 5),
            Packets.Ip6(Client6, Vip6, IpProtocol.Ipv6, Inner6(Vip6, 6)),
        ];
        string[] senders = ["2001:db8::99", XdpVethPair.PeerAddress6, XdpVethPair.PeerAddress6];
        for (int i = 0; i < passing6.Length; i++)
            pair.SendFromPeer(pair.FrameToXdp(Packets.Ip6(senders[i], XdpVethPair.XdpAddress6, IpProtocol.Ipv6, passing6[i])));
        // And an IPv4 tunnel nested in IPv4.
        var nested4 = Ipip(Client, Vip, Inner(Vip, 7));
        pair.SendFromPeer(pair.FrameToXdp(Ipip(XdpVethPair.PeerAddress, XdpVethPair.XdpAddress, nested4)));

        var rawBuf = new byte[2048];
        var seen6 = ReceiveUpTo(raw6, passing6.Length);
        Assert.Equal(passing6.Length, seen6.Count);
        for (int i = 0; i < passing6.Length; i++)
            Assert.True(passing6[i].AsSpan().SequenceEqual(seen6[i]), $"passing IPv6 tunnel {i} changed");
        int r4 = raw4.Receive(rawBuf, 2000);
        Assert.True(r4 > 20, "the nested IPv4 tunnel did not reach the raw socket");
        Assert.True(nested4.AsSpan().SequenceEqual(rawBuf.AsSpan(20, r4 - 20)), "the nested IPv4 tunnel changed");
        Assert.Equal((3L, innerBytes), decap.Counters());
        udp4.ReceiveTimeout = udp6.ReceiveTimeout = 300;
        Assert.Throws<SocketException>(() => udp4.Receive(buf));
        Assert.Throws<SocketException>(() => udp6.Receive(buf));
    }

    private const int GuePort = 6080;

    /// <summary>UDP from port 40000 to <paramref name="port"/> over IPv4 (checksum 0, as directors send GUE, unless asked).</summary>
    private static byte[] Gue(string source, string destination, byte[] payload, bool checksum = false, int port = GuePort)
    {
        var udp = new byte[8 + payload.Length];
        BinaryPrimitives.WriteUInt16BigEndian(udp, 40000);
        BinaryPrimitives.WriteUInt16BigEndian(udp.AsSpan(2), (ushort)port);
        BinaryPrimitives.WriteUInt16BigEndian(udp.AsSpan(4), (ushort)udp.Length);
        payload.CopyTo(udp, 8);
        if (checksum)
        {
            ushort sum = Checksum.Finish(Checksum.Add(Checksum.PseudoHeader(IpAddress.Parse(source), IpAddress.Parse(destination), IpProtocol.Udp, udp.Length), udp));
            BinaryPrimitives.WriteUInt16BigEndian(udp.AsSpan(6), sum == 0 ? (ushort)0xFFFF : sum);
        }
        return Ipip(source, destination, udp, IpProtocol.Udp);
    }

    /// <summary>A GUE variant 0 header (no extension fields) for <paramref name="proto"/>, then the inner packet.</summary>
    private static byte[] Gue0(byte proto, byte[] inner) => [0x00, proto, 0, 0, .. inner];

    [Fact]
    public void Gue_to_the_port_without_checksum_arrives_decapsulated_and_the_rest_reaches_the_gue_socket()
    {
        using var pair = new XdpVethPair();
        pair.Xdp.Exec("addr", "add", Vip + "/32", "dev", "lo");
        pair.Xdp.Exec("-6", "addr", "add", Vip6 + "/128", "dev", "lo");
        pair.Xdp.Exec("route", "add", "198.51.100.0/24", "via", XdpVethPair.PeerAddress);
        pair.Xdp.Exec("-6", "route", "add", "2001:db8:c::/64", "via", XdpVethPair.PeerAddress6);
        using var decap = pair.Xdp.Run(() => XdpDecapsulator.Load(guePort: GuePort));
        pair.Xdp.Run(() => decap.Attach(pair.XdpDev));
        decap.SetDirectors([IpAddress.Parse(XdpVethPair.PeerAddress)]);
        decap.SetLocalAddresses([IpAddress.Parse(XdpVethPair.XdpAddress)]);
        decap.SetVips([IpAddress.Parse(Vip), IpAddress.Parse(Vip6)]);

        Socket Udp(AddressFamily family, int port) => pair.Xdp.Run(() =>
        {
            var s = new Socket(family, SocketType.Dgram, ProtocolType.Udp);
            if (family == AddressFamily.InterNetworkV6) s.DualMode = false;
            s.Bind(new IPEndPoint(family == AddressFamily.InterNetwork ? IPAddress.Any : IPAddress.IPv6Any, port));
            s.ReceiveTimeout = 3000;
            return s;
        });
        using var udp4 = Udp(AddressFamily.InterNetwork, 4242);
        using var udp6 = Udp(AddressFamily.InterNetworkV6, 4242);
        using var gue = Udp(AddressFamily.InterNetwork, GuePort);          // where the agent reads GUE
        using var other = Udp(AddressFamily.InterNetwork, GuePort + 1);

        // Accepted: variant 0 carrying IPv4 and IPv6, variant 1 (the inner header right after UDP) of both families.
        var inners = new[] { Inner(Vip, 1), Inner6(Vip6, 2), Inner(Vip, 3), Inner6(Vip6, 4) };
        pair.SendFromPeer(pair.FrameToXdp(Gue(XdpVethPair.PeerAddress, XdpVethPair.XdpAddress, Gue0(IpProtocol.IpIp, inners[0]))));
        pair.SendFromPeer(pair.FrameToXdp(Gue(XdpVethPair.PeerAddress, XdpVethPair.XdpAddress, Gue0(IpProtocol.Ipv6, inners[1]))));
        pair.SendFromPeer(pair.FrameToXdp(Gue(XdpVethPair.PeerAddress, XdpVethPair.XdpAddress, inners[2])));
        pair.SendFromPeer(pair.FrameToXdp(Gue(XdpVethPair.PeerAddress, XdpVethPair.XdpAddress, inners[3])));
        var buf = new byte[2048];
        foreach (var (socket, inner, header) in new[] { (udp4, inners[0], 28), (udp6, inners[1], 48), (udp4, inners[2], 28), (udp6, inners[3], 48) })
        {
            int n = socket.Receive(buf);
            Assert.Equal(inner.AsSpan(header).ToArray(), buf.AsSpan(0, n).ToArray());
        }
        long innerBytes = inners.Sum(i => (long)i.Length);
        Assert.Equal((4L, innerBytes), decap.Counters());

        // Left to the kernel and the agent's socket, unchanged: a UDP checksum (the kernel verifies it), an unknown
        // director, extension fields (Hlen 1), a control message, a variant 1 whose first nibble is no IP version.
        byte[][] toGue =
        [
            Gue0(IpProtocol.IpIp, Inner(Vip, 5)),
            Gue0(IpProtocol.IpIp, Inner(Vip, 6)),
            [0x01, IpProtocol.IpIp, 0, 0, 0, 0, 0, 0, .. Inner(Vip, 7)],
            [0x20, 0, 0, 0, .. Inner(Vip, 8)],
            [0x50, .. Inner(Vip, 9).AsSpan(1)],
        ];
        pair.SendFromPeer(pair.FrameToXdp(Gue(XdpVethPair.PeerAddress, XdpVethPair.XdpAddress, toGue[0], checksum: true)));
        pair.SendFromPeer(pair.FrameToXdp(Gue("192.0.2.99", XdpVethPair.XdpAddress, toGue[1])));
        foreach (var p in toGue[2..]) pair.SendFromPeer(pair.FrameToXdp(Gue(XdpVethPair.PeerAddress, XdpVethPair.XdpAddress, p)));
        foreach (var expected in toGue)
        {
            int n = gue.Receive(buf);
            Assert.Equal(expected, buf.AsSpan(0, n).ToArray());
        }
        // Another port is not GUE.
        var notGue = Gue0(IpProtocol.IpIp, Inner(Vip, 10));
        pair.SendFromPeer(pair.FrameToXdp(Gue(XdpVethPair.PeerAddress, XdpVethPair.XdpAddress, notGue, port: GuePort + 1)));
        Assert.Equal(notGue, buf.AsSpan(0, other.Receive(buf)).ToArray());

        Assert.Equal((4L, innerBytes), decap.Counters());
        udp4.ReceiveTimeout = udp6.ReceiveTimeout = 300;
        Assert.Throws<SocketException>(() => udp4.Receive(buf));
        Assert.Throws<SocketException>(() => udp6.Receive(buf));
    }
}

