using System.Buffers.Binary;
using TunLB.Core.Flows;
using TunLB.Linux.Xdp;

namespace TunLB.Linux.Tests.Xdp;

/// <summary>
/// Steering by service (what the director uses): only TCP/UDP to a configured (VIP, protocol, port), every port of a
/// port-0 service and non-first fragments of a VIP with services reach the socket; other ports and protocols of the VIP
/// reach the kernel, so a service held locally on the director still answers.
/// </summary>
public sealed class XdpServiceSteeringTests
{
    private static readonly IpAddress Vip = IpAddress.Parse("203.0.113.10"), Vip6 = IpAddress.Parse("2001:db8:1::10");
    private const byte Tcp = 6, Udp = 17;

    private static byte[] V4(byte protocol, ushort port, byte tag, bool fragment = false)
    {
        var p = XskSocketTests.Udp4(Vip.ToString(), 5000, tag);
        p[9] = protocol;
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(22), port);
        if (fragment) BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(6), 0x0003); // offset 24 bytes, no MF: the last fragment
        return p;
    }

    private static byte[] V6(byte nextHeader, ushort port, byte tag)
    {
        var p = XskSocketTests.Udp6(Vip6, tag);
        p[6] = nextHeader;
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(42), port);
        return p;
    }

    [Fact]
    public void Only_configured_services_reach_the_socket_and_other_ports_of_the_vip_reach_the_kernel()
    {
        using var pair = new XdpVethPair();
        using var xdp = pair.Xdp.Run(() => XdpVipRedirector.Attach(pair.XdpIfIndex, queueCount: 1));
        using var xsk = pair.Xdp.Run(() => XskSocket.Open(pair.XdpIfIndex, 0, xdp, ringSize: 256));
        xdp.SetServices([new(Vip, Udp, 53), new(Vip, Tcp, 0), new(Vip6, Udp, 53)]);
        Assert.True(xdp.ContainsVip(Vip) && xdp.ContainsVip(Vip6));
        Assert.True(xdp.ContainsService(new(Vip, Udp, 53)) && !xdp.ContainsService(new(Vip, Udp, 54)));

        var expected = new List<byte[]>();
        for (byte i = 0; i < 5; i++)
        {
            byte[] udp53 = V4(Udp, 53, i), tcp80 = V4(Tcp, 80, i), tcp22 = V4(Tcp, 22, i), fragment = V4(Udp, 54, i, fragment: true),
                   udp6 = V6(Udp, 53, i), tagged = V4(Udp, 53, (byte)(100 + i));
            pair.SendFromPeer(pair.FrameToXdp(udp53));
            pair.SendFromPeer(pair.FrameToXdp(V4(Udp, 54, i)));        // another UDP port: not a service
            pair.SendFromPeer(pair.FrameToXdp(tcp80));                 // TCP: the port-0 service takes every port
            pair.SendFromPeer(pair.FrameToXdp(tcp22));
            pair.SendFromPeer(pair.FrameToXdp(fragment));              // a non-first fragment carries no ports
            pair.SendFromPeer(pair.FrameToXdp(V4(1, 0, i)));           // ICMP: the kernel's
            pair.SendFromPeer(pair.FrameToXdp(udp6));
            pair.SendFromPeer(pair.FrameToXdp(V6(Udp, 54, i)));
            pair.SendFromPeer(pair.FrameToXdp(V6(Tcp, 53, i)));        // TCP/53 on the IPv6 VIP is not a service
            pair.SendFromPeer(pair.FrameToXdp(tagged, vlan: 42));
            expected.AddRange([udp53, tcp80, tcp22, fragment, udp6, tagged]);
        }
        var got = XskSocketTests.ReceiveAll(xsk, expected.Count);
        Assert.Equal(expected.Count, got.Count);
        for (int i = 0; i < expected.Count; i++) Assert.True(expected[i].AsSpan().SequenceEqual(got[i]), $"packet {i} differs");

        // The VIP held locally: a datagram to a port that is not a service reaches a socket on the director's side.
        pair.Xdp.Exec("addr", "add", Vip + "/32", "dev", pair.XdpDev);
        pair.Peer.Exec("route", "add", "203.0.113.0/24", "via", XdpVethPair.XdpAddress);
        Assert.True(pair.KernelDelivers(Vip.ToString(), port: 4242));
        Assert.Equal(0, xsk.Receive(new byte[4096], 100));
    }

    [Fact]
    public void Service_changes_take_effect_at_run_time_and_whole_vips_are_kept_apart()
    {
        using var pair = new XdpVethPair();
        using var xdp = pair.Xdp.Run(() => XdpVipRedirector.Attach(pair.XdpIfIndex, queueCount: 1));
        using var xsk = pair.Xdp.Run(() => XskSocket.Open(pair.XdpIfIndex, 0, xdp, ringSize: 256));
        xdp.SetServices([new(Vip, Udp, 53), new(Vip6, Udp, 53)]);
        xdp.SetServices([new(Vip, Udp, 54)]);
        Assert.False(xdp.ContainsVip(Vip6)); // no service left on it: the VIP entry is gone
        Assert.False(xdp.ContainsService(new(Vip, Udp, 53)));
        Assert.Equal([new XdpService(Vip, Udp, 54)], xdp.Services);
        pair.SendFromPeer(pair.FrameToXdp(V4(Udp, 53, 1)));
        pair.SendFromPeer(pair.FrameToXdp(V6(Udp, 53, 1)));
        var udp54 = V4(Udp, 54, 2);
        pair.SendFromPeer(pair.FrameToXdp(udp54));
        var got = XskSocketTests.ReceiveAll(xsk, 1);
        Assert.Single(got);
        Assert.Equal(udp54, got[0]);

        // A VIP steered whole takes every port; removing it leaves its services.
        xdp.AddVip(Vip);
        var udp99 = V4(Udp, 99, 3);
        pair.SendFromPeer(pair.FrameToXdp(udp99));
        Assert.Equal(udp99, Assert.Single(XskSocketTests.ReceiveAll(xsk, 1)));
        Assert.True(xdp.RemoveVip(Vip));
        Assert.True(xdp.ContainsVip(Vip));
        pair.SendFromPeer(pair.FrameToXdp(V4(Udp, 99, 4)));
        pair.SendFromPeer(pair.FrameToXdp(udp54));
        Assert.Equal(udp54, Assert.Single(XskSocketTests.ReceiveAll(xsk, 1)));
        xdp.SetServices([]);
        Assert.False(xdp.ContainsVip(Vip));
    }
}
