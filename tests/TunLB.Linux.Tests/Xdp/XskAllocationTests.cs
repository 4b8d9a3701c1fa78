using TunLB.Core.Flows;
using TunLB.Linux.Xdp;

namespace TunLB.Linux.Tests.Xdp;

/// <summary>The per-packet calls of <see cref="XskSocket"/> (Receive, Send, Flush) allocate nothing.</summary>
public sealed class XskAllocationTests
{
    [Fact]
    public void Receive_send_and_flush_allocate_nothing()
    {
        var vip = IpAddress.Parse("203.0.113.30");
        using var pair = new XdpVethPair();
        using var xdp = pair.Xdp.Run(() => XdpVipRedirector.Attach(pair.XdpIfIndex, queueCount: 1));
        using var xsk = pair.Xdp.Run(() => XskSocket.Open(pair.XdpIfIndex, 0, xdp, ringSize: 256));
        xdp.AddVip(vip);
        var frame = pair.FrameToXdp(XskSocketTests.Udp4(vip.ToString(), 9999, 1));
        var reply = pair.FrameToPeer(XskSocketTests.Udp4(XdpVethPair.PeerAddress, 9999, 2));
        var header = reply.AsSpan(0, 14).ToArray();
        var buffer = new byte[4096];
        for (int i = 0; i < 150; i++) pair.SendFromPeer(frame);

        void Round()
        {
            Assert.True(xsk.Receive(buffer, 2000) > 0);
            Assert.True(xsk.Send(reply));
            Assert.True(xsk.Send(header, reply.AsSpan(14)));
            xsk.Flush();
        }
        for (int i = 0; i < 20; i++) Round(); // JIT and first-use costs
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++) Round();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
