using System.Net;
using System.Net.Sockets;
using TunLB.Core.Flows;
using TunLB.Core.Packets;
using TunLB.Linux.Xdp;

namespace TunLB.Linux.Tests.Xdp;

/// <summary>
/// Kernel behaviour the lead must know before wiring <c>io = "xdp"</c>: an AF_XDP descriptor carries no skb metadata,
/// so what a local sender hands to veth with CHECKSUM_PARTIAL (only the pseudo-header sum in the TCP/UDP checksum field)
/// reaches the socket exactly so, and nothing tells it apart. AfPacketRing sees TP_STATUS_CSUMNOTREADY and completes
/// the sum; an XSK cannot. Frames from a real NIC carry the sender's full checksum.
/// </summary>
public sealed class XskOffloadTests
{
    [Fact]
    public void A_local_senders_packets_through_veth_arrive_with_only_the_pseudo_header_sum()
    {
        var vip = IpAddress.Parse("203.0.113.40");
        using var pair = new XdpVethPair();
        pair.Peer.Exec("route", "add", "203.0.113.0/24", "via", XdpVethPair.XdpAddress);
        using var xdp = pair.Xdp.Run(() => XdpVipRedirector.Attach(pair.XdpIfIndex, queueCount: 1));
        using var xsk = pair.Xdp.Run(() => XskSocket.Open(pair.XdpIfIndex, 0, xdp, ringSize: 256));
        xdp.AddVip(vip);
        pair.Peer.Run(() =>
        {
            using var s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            for (int i = 0; i < 3; i++) s.SendTo(new byte[100], new IPEndPoint(IPAddress.Parse(vip.ToString()), 9));
        });
        var got = XskSocketTests.ReceiveAll(xsk, 3);
        Assert.Equal(3, got.Count);
        Assert.All(got, p =>
        {
            Assert.Equal(IpProtocol.Udp, p[9]);
            Assert.False(Offload.TransportChecksumValid(p));
            Assert.True(Offload.CompleteChecksum(p)); // the field held the pseudo-header sum: completing it gives a valid packet
            Assert.True(Offload.TransportChecksumValid(p));
        });
    }
}
