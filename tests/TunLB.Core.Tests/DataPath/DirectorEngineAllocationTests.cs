using TunLB.Core.DataPath;
using TunLB.Core.Flows;
using TunLB.Core.Model;
using TunLB.Core.Packets;

namespace TunLB.Core.Tests.DataPath;

public class DirectorEngineAllocationTests
{
    private static (DirectorEngine Engine, VirtualService Service) Setup(int persistenceSeconds)
    {
        var dests = new[]
        {
            new Destination(1, IpAddress.Parse("192.168.1.11"), 80, 1) { OuterSource = IpAddress.Parse("192.168.1.1") },
            new Destination(2, IpAddress.Parse("192.168.1.12"), 80, 1) { OuterSource = IpAddress.Parse("192.168.1.1") },
        };
        var svc = new VirtualService(new ServiceKey(IpAddress.Parse("10.0.0.100"), 80, IpProtocol.Tcp), new TestRoundRobinScheduler(), dests)
        {
            PersistenceSeconds = persistenceSeconds,
        };
        var engine = new DirectorEngine(new DirectorEngineOptions { ConnectionCapacity = 8192, HashSeed = 7 });
        engine.SetServices([svc]);
        return (engine, svc);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(300)]
    public void Established_flow_and_new_flows_do_not_allocate(int persistenceSeconds)
    {
        var (e, _) = Setup(persistenceSeconds);
        var output = new byte[2048];
        var ack = TestPackets.Tcp("203.0.113.7", 40000, "10.0.0.100", 80, TcpFlags.Ack, payload: 100);
        var syn = TestPackets.Tcp("203.0.113.7", 1, "10.0.0.100", 80, TcpFlags.Syn);
        Assert.Equal(DropReason.None, e.ProcessOne(TestPackets.Tcp("203.0.113.7", 40000, "10.0.0.100", 80, TcpFlags.Syn), output, 0, out _, out _));

        long now = 1;
        ushort port = 1;
        void Loop(int n)
        {
            for (int i = 0; i < n; i++, now++)
            {
                if (e.ProcessOne(ack, output, now, out _, out _) != DropReason.None) throw new Exception("established flow dropped");
                TestPackets.SetSourcePort(syn, port++);
                if (e.ProcessOne(syn, output, now, out _, out _) != DropReason.None) throw new Exception("new flow dropped");
            }
        }

        Loop(1000);                                   // warm-up (JIT, tiering)
        // Tiered compilation may still be installing code during the first measured rounds on a loaded machine;
        // a real per-packet allocation shows in every round, so take the smallest of three.
        long allocated = long.MaxValue;
        for (int round = 0; round < 3 && allocated != 0; round++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            Loop(1000);
            allocated = Math.Min(allocated, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        Assert.Equal(0, allocated);
        Assert.True(e.Connections.Count - (persistenceSeconds > 0 ? 1 : 0) >= 2001);
    }
}
