using TunLB.Core.Connections;
using TunLB.Core.DataPath;
using TunLB.Core.Flows;
using TunLB.Core.Model;
using TunLB.Core.Packets;
using TunLB.Core.Scheduling;

namespace TunLB.Core.Tests.DataPath;

/// <summary>
/// Adoption (IPVS sloppy_tcp, on with announce = true): a TCP segment without SYN and without an entry is scheduled,
/// its entry starts ESTABLISHED with the established timeout, and the service counts it.
/// </summary>
public class DirectorEngineAdoptTests
{
    private const string Vip = "10.0.0.100";
    private const string Client = "203.0.113.7";
    private static readonly IpAddress Outer = IpAddress.Parse("192.168.1.1");
    private readonly byte[] _out = new byte[2048];

    private static Destination[] Dests() =>
    [
        new(1, IpAddress.Parse("192.168.1.11"), 80, 1) { OuterSource = Outer },
        new(2, IpAddress.Parse("192.168.1.12"), 80, 2) { OuterSource = Outer },
        new(3, IpAddress.Parse("192.168.1.13"), 80, 1) { OuterSource = Outer },
    ];

    private static (DirectorEngine Engine, VirtualService Service) Setup(string scheduler = "rr", int persistence = 0, int worker = 0, int workers = 1)
    {
        var svc = new VirtualService(new ServiceKey(IpAddress.Parse(Vip), 80, IpProtocol.Tcp), SchedulerFactory.Create(scheduler), Dests())
        {
            PersistenceSeconds = persistence,
        };
        var e = new DirectorEngine(new DirectorEngineOptions
        {
            ConnectionCapacity = 256, HashSeed = 9, SloppyTcp = true, WorkerIndex = worker, WorkerCount = workers,
        });
        e.SetServices([svc]);
        return (e, svc);
    }

    private static FlowKey Flow(ushort port) => new(IpAddress.Parse(Client), IpAddress.Parse(Vip), port, 80, 6);

    private static byte[] Tcp(ushort port, byte flags) => TestPackets.Tcp(Client, port, Vip, 80, flags, payload: 20);

    [Theory]
    [InlineData("rr")]
    [InlineData("wrr")]
    [InlineData("lc")]
    [InlineData("wlc")]
    [InlineData("sh")]
    [InlineData("dh")]
    [InlineData("mh")]
    public void Every_scheduler_adopts_a_mid_flow_ack_as_established_with_the_established_timeout(string scheduler)
    {
        var (e, svc) = Setup(scheduler);
        Assert.Equal(DropReason.None, e.ProcessOne(Tcp(40000, TcpFlags.Ack | TcpFlags.Psh), _out, 5000, out _, out var hop));
        ref ConnEntry c = ref e.Connections[e.Connections.Find(Flow(40000))];
        Assert.Equal(ConnState.Established, c.State);
        Assert.Equal(5000 + e.Timeouts.TcpMs, c.ExpiresAtMs);
        var d = svc.Destinations.Single(x => x.Address == hop);
        Assert.Equal(d.Id, c.DestinationId);
        Assert.Equal((1, 0), (d.ActiveConnections, d.InactiveConnections));
        Assert.Equal(1, svc.Adopted);
        Assert.Equal(1, svc.Connections);
        Assert.Equal(0, e.Drops[(int)DropReason.TcpNoConnection]);

        // The flow's next segments find the entry: not adopted again, same real server.
        Assert.Equal(DropReason.None, e.ProcessOne(Tcp(40000, TcpFlags.Ack), _out, 5001, out _, out var again));
        Assert.Equal(hop, again);
        Assert.Equal(1, svc.Adopted);
    }

    [Fact]
    public void A_syn_is_a_new_connection_not_an_adoption()
    {
        var (e, svc) = Setup();
        Assert.Equal(DropReason.None, e.ProcessOne(Tcp(40000, TcpFlags.Syn), _out, 0, out _, out _));
        Assert.Equal(ConnState.SynRecv, e.Connections[e.Connections.Find(Flow(40000))].State);
        Assert.Equal(0, svc.Adopted);
    }

    [Fact]
    public void An_adopted_fin_goes_to_fin_wait_with_its_timeout_not_close()
    {
        var (e, svc) = Setup();
        Assert.Equal(DropReason.None, e.ProcessOne(Tcp(40000, TcpFlags.Fin | TcpFlags.Ack), _out, 0, out _, out var hop));
        ref ConnEntry c = ref e.Connections[e.Connections.Find(Flow(40000))];
        Assert.Equal(ConnState.FinWait, c.State);
        Assert.Equal(e.Timeouts.TcpFinMs, c.ExpiresAtMs);
        var d = svc.Destinations.Single(x => x.Address == hop);
        Assert.Equal((0, 1), (d.ActiveConnections, d.InactiveConnections));
        Assert.Equal(1, svc.Adopted);
    }

    [Fact]
    public void An_rst_without_a_connection_is_still_dropped()
    {
        var (e, svc) = Setup();
        Assert.Equal(DropReason.TcpNoConnection, e.ProcessOne(Tcp(40000, TcpFlags.Rst | TcpFlags.Ack), _out, 0, out _, out _));
        Assert.Equal(0, svc.Adopted);
        Assert.Equal(0, e.Connections.Count);
    }

    [Fact]
    public void A_persistent_service_adopts_through_its_template()
    {
        var (e, svc) = Setup(persistence: 300);
        Assert.Equal(DropReason.None, e.ProcessOne(Tcp(40000, TcpFlags.Ack), _out, 0, out _, out var hop));
        Assert.Equal(DropReason.None, e.ProcessOne(Tcp(40001, TcpFlags.Ack), _out, 1, out _, out var second));
        Assert.Equal(hop, second); // the template holds the client to its real server
        Assert.Equal(ConnState.Established, e.Connections[e.Connections.Find(Flow(40001))].State);
        Assert.Equal(2, svc.Adopted);
    }

    [Fact]
    public void Each_worker_counts_in_its_own_slot_and_the_service_sums_them()
    {
        var (e, svc) = Setup(worker: 3, workers: 4);
        for (ushort p = 1; p <= 5; p++)
            Assert.Equal(DropReason.None, e.ProcessOne(Tcp(p, TcpFlags.Ack), _out, 0, out _, out _));
        Assert.Equal(5, svc.Stats.Slot(3).Adopted);
        Assert.Equal(0, svc.Stats.Slot(0).Adopted);
        Assert.Equal(5, svc.Adopted);
        svc.Stats.Zero(3);
        Assert.Equal(0, svc.Adopted);
    }

    [Fact]
    public void Adopting_flows_does_not_allocate()
    {
        var (e, _) = Setup("mh");
        var ack = Tcp(1, TcpFlags.Ack);
        ushort port = 1;
        void Loop(int n)
        {
            for (int i = 0; i < n; i++)
            {
                TestPackets.SetSourcePort(ack, port++);
                if (e.ProcessOne(ack, _out, i, out _, out _) != DropReason.None) throw new Exception("adopted flow dropped");
            }
        }
        Loop(100); // warm-up (JIT, tiering)
        long allocated = long.MaxValue;
        for (int round = 0; round < 3 && allocated != 0; round++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            Loop(50);
            allocated = Math.Min(allocated, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        Assert.Equal(0, allocated);
    }
}
