using System.Buffers.Binary;
using System.Diagnostics;
using TunLB.Core.Flows;
using TunLB.Linux.Xdp;

namespace TunLB.Linux.Tests.Xdp;

/// <summary>
/// One AF_XDP socket per receive queue, as one worker per queue will use them: veth with two queues on each end (the
/// sending end picks a TX queue by flow hash, and veth delivers into the receive queue of the same number).
/// </summary>
public sealed class XskMultiQueueTests
{
    private static readonly IpAddress Vip = IpAddress.Parse("203.0.113.20");

    [Fact]
    public void Queue_count_comes_from_sysfs()
    {
        Assert.Equal(1, DeviceQueues.RxQueueCount("lo"));
        Assert.Throws<IOException>(() => DeviceQueues.RxQueueCount("tlb-no-such-dev"));
    }

    [Fact]
    public void Each_queue_socket_gets_whole_flows_and_together_they_get_every_packet()
    {
        using var pair = new XdpVethPair(queues: 2);
        using var xdp = pair.Xdp.Run(() => XdpVipRedirector.Attach(pair.XdpIfIndex, queueCount: 2));
        xdp.AddVip(Vip);
        var sockets = new XskSocket[2];
        try
        {
            for (int q = 0; q < 2; q++) sockets[q] = pair.Xdp.Run(() => XskSocket.Open(pair.XdpIfIndex, q, xdp, ringSize: 256));
            const int Flows = 32, PerFlow = 4;
            for (int round = 0; round < PerFlow; round++)
                for (int f = 0; f < Flows; f++)
                    pair.SendFromPeer(pair.FrameToXdp(XskSocketTests.Udp4(Vip.ToString(), (ushort)(10000 + f), (byte)round)));

            var queueOfFlow = new Dictionary<ushort, HashSet<int>>();
            int total = 0;
            var buf = new byte[4096];
            var sw = Stopwatch.StartNew();
            while (total < Flows * PerFlow && sw.ElapsedMilliseconds < 5000)
            {
                bool any = false;
                for (int q = 0; q < 2; q++)
                {
                    int n = sockets[q].Receive(buf, 0);
                    Assert.True(n >= 0);
                    if (n == 0) continue;
                    any = true;
                    total++;
                    ushort sport = BinaryPrimitives.ReadUInt16BigEndian(buf.AsSpan(20));
                    if (!queueOfFlow.TryGetValue(sport, out var qs)) queueOfFlow[sport] = qs = [];
                    qs.Add(q);
                }
                if (!any) Thread.Sleep(5);
            }
            Assert.Equal(Flows * PerFlow, total);
            Assert.Equal(Flows, queueOfFlow.Count);
            Assert.All(queueOfFlow.Values, qs => Assert.Single(qs)); // a flow stays on one queue
            var perQueue = sockets.Select(s => s.RxPackets).ToArray();
            Assert.True(perQueue.All(p => p > 0), $"packets per queue: {string.Join(", ", perQueue)}");
        }
        finally
        {
            foreach (var s in sockets) s?.Dispose();
        }
    }
}
