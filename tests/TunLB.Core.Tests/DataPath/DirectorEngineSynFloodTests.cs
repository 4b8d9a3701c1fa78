using TunLB.Core.Connections;
using TunLB.Core.DataPath;
using TunLB.Core.Flows;
using TunLB.Core.Model;
using TunLB.Core.Packets;

namespace TunLB.Core.Tests.DataPath;

public class DirectorEngineSynFloodTests
{
    private const string Vip = "10.0.0.100";

    private static (DirectorEngine Engine, Destination[] Dests) Setup(int capacity, SynFloodOptions flood)
    {
        var dests = new[]
        {
            new Destination(1, IpAddress.Parse("192.168.1.11"), 80, 1) { OuterSource = IpAddress.Parse("192.168.1.1") },
            new Destination(2, IpAddress.Parse("192.168.1.12"), 80, 2) { OuterSource = IpAddress.Parse("192.168.1.1") },
            new Destination(3, IpAddress.Parse("192.168.1.13"), 80, 1) { OuterSource = IpAddress.Parse("192.168.1.1") },
        };
        var svc = new VirtualService(new ServiceKey(IpAddress.Parse(Vip), 80, IpProtocol.Tcp), new TestRoundRobinScheduler(), dests);
        var e = new DirectorEngine(new DirectorEngineOptions { ConnectionCapacity = capacity, HashSeed = 9, SynFlood = flood });
        e.SetServices([svc]);
        return (e, dests);
    }

    // Spoofed sources: 198.18.0.0/15, one per n.
    private static string Spoofed(int n) => $"198.{18 + (n >> 16 & 1)}.{n >> 8 & 255}.{n & 255}";

    private static DropReason Send(DirectorEngine e, string src, ushort port, byte flags, long now, out IpAddress hop) =>
        e.ProcessOne(TestPackets.Tcp(src, port, Vip, 80, flags), new byte[2048], now, out _, out hop);

    [Fact]
    public void A_flood_of_half_open_entries_never_evicts_established_connections()
    {
        var (e, _) = Setup(1000, new SynFloodOptions { HalfOpenEvictFill = 0.9 });
        var hops = new IpAddress[100];
        for (int i = 0; i < 100; i++)
        {
            Assert.Equal(DropReason.None, Send(e, "203.0.113.7", (ushort)(1000 + i), TcpFlags.Syn, 0, out hops[i]));
            Assert.Equal(DropReason.None, Send(e, "203.0.113.7", (ushort)(1000 + i), TcpFlags.Ack, 1, out _));
        }
        for (int n = 0; n < 20_000; n++)
            Assert.Equal(DropReason.None, Send(e, Spoofed(n), 4242, TcpFlags.Syn, 2 + n / 100, out _));

        Assert.Equal(900, e.Connections.Count);                              // held at the 90% threshold
        Assert.Equal(800, e.Connections.HalfOpenCount);
        Assert.Equal(20_000 - 800, e.Connections.EvictedHalfOpen);
        Assert.Equal(0, e.Connections.Evictions);
        for (int i = 0; i < 100; i++)
        {
            Assert.Equal(DropReason.None, Send(e, "203.0.113.7", (ushort)(1000 + i), TcpFlags.Ack, 300, out var hop));
            Assert.Equal(hops[i], hop);                                      // same real server: the entry survived
        }
    }

    [Fact]
    public void Without_the_threshold_the_same_flood_evicts_established_connections()
    {
        // The control for the test above: plain LRU eviction loses the established flows.
        var (e, _) = Setup(1000, new SynFloodOptions());
        for (int i = 0; i < 100; i++)
        {
            Send(e, "203.0.113.7", (ushort)(1000 + i), TcpFlags.Syn, 0, out _);
            Send(e, "203.0.113.7", (ushort)(1000 + i), TcpFlags.Ack, 1, out _);
        }
        for (int n = 0; n < 20_000; n++) Send(e, Spoofed(n), 4242, TcpFlags.Syn, 2 + n / 100, out _);
        Assert.Equal(DropReason.TcpNoConnection, Send(e, "203.0.113.7", 1000, TcpFlags.Ack, 300, out _));
    }

    [Fact]
    public void Above_the_rate_stateless_mode_forwards_SYNs_without_entries_and_the_ACK_follows_its_SYN()
    {
        var (e, _) = Setup(10_000, new SynFloodOptions { RatePerSecond = 50, Mode = SynFloodMode.Stateless });
        var hops = new Dictionary<int, IpAddress>();
        for (int n = 0; n < 200; n++)
        {
            Assert.Equal(DropReason.None, Send(e, Spoofed(n), 5000, TcpFlags.Syn, 100 + n, out var hop));
            hops[n] = hop;
        }
        Assert.True(e.SynFlood.Active);
        Assert.Equal(1, e.SynFlood.Engagements);
        Assert.Equal(50, e.Connections.Count);                               // only the SYNs before the defence engaged
        Assert.Equal(150, e.StatelessScheduled);

        // The handshakes' ACKs: scheduled by the flow hash (not by round robin), so each lands where its SYN did.
        for (int n = 50; n < 200; n++)
        {
            Assert.Equal(DropReason.None, Send(e, Spoofed(n), 5000, TcpFlags.Ack, 400, out var hop));
            Assert.Equal(hops[n], hop);
        }
        Assert.Equal(150, e.StatelessAdopted);
        Assert.Equal(200, e.Connections.Count);
        // Weighted: real 2 (weight 2) took about half of the stateless SYNs.
        int toTwo = hops.Where(p => p.Key >= 50).Count(p => p.Value == IpAddress.Parse("192.168.1.12"));
        Assert.InRange(toTwo, 50, 100);
    }

    [Fact]
    public void Stateless_adoption_ends_a_SYN_RECV_timeout_after_the_defence()
    {
        var (e, _) = Setup(10_000, new SynFloodOptions { RatePerSecond = 5, Mode = SynFloodMode.Stateless });
        for (int n = 0; n < 20; n++) Send(e, Spoofed(n), 5000, TcpFlags.Syn, 0, out _);
        Assert.True(e.SynFlood.Active);
        e.Expire(1500, 16);                                                  // the second before was above the rate
        Assert.True(e.SynFlood.Active);
        e.Expire(2600, 16);                                                  // a quiet second: disengaged (at 2500)
        Assert.False(e.SynFlood.Active);
        Assert.Equal(DropReason.None, Send(e, Spoofed(19), 5000, TcpFlags.Ack, 30_000, out _));
        Assert.Equal(DropReason.TcpNoConnection, Send(e, Spoofed(18), 5000, TcpFlags.Ack, 2500 + 60_001, out _));
    }

    [Fact]
    public void Short_SYN_RECV_timeout_while_engaged()
    {
        var (e, _) = Setup(10_000, new SynFloodOptions { RatePerSecond = 10, Mode = SynFloodMode.ShortSynRecv, ShortSynRecvMs = 3000 });
        for (int n = 0; n < 10; n++) Send(e, Spoofed(n), 5000, TcpFlags.Syn, 0, out _);
        var before = e.Connections[e.Connections.Find(Key(Spoofed(0)))];
        Assert.Equal(60_000, before.ExpiresAtMs);
        for (int n = 10; n < 20; n++) Send(e, Spoofed(n), 5000, TcpFlags.Syn, 1, out _);
        Assert.True(e.SynFlood.Active);
        Assert.Equal(1 + 3000, e.Connections[e.Connections.Find(Key(Spoofed(15)))].ExpiresAtMs);
        Assert.Equal(20, e.Connections.Count);                              // still inserted (no stateless mode)
        Assert.Equal(0, e.StatelessScheduled);
        // The handshake completes: the established timeout, not the short one.
        Send(e, Spoofed(15), 5000, TcpFlags.Ack, 2, out _);
        Assert.Equal(2 + 900_000, e.Connections[e.Connections.Find(Key(Spoofed(15)))].ExpiresAtMs);
    }

    [Fact]
    public void A_stateless_flood_does_not_allocate()
    {
        var (e, _) = Setup(1024, new SynFloodOptions { RatePerSecond = 10, Mode = SynFloodMode.Stateless | SynFloodMode.ShortSynRecv, HalfOpenEvictFill = 0.9 });
        var output = new byte[2048];
        var syn = TestPackets.Tcp("198.18.0.1", 1, Vip, 80, TcpFlags.Syn);
        void Loop(int n, long now)
        {
            for (int i = 0; i < n; i++)
            {
                TestPackets.SetSourcePort(syn, (ushort)(i + 1));
                if (e.ProcessOne(syn, output, now, out _, out _) != DropReason.None) throw new Exception("dropped");
            }
        }
        Loop(5000, 0);
        long allocated = long.MaxValue;
        for (int round = 0; round < 3 && allocated != 0; round++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            Loop(5000, round + 1);
            allocated = Math.Min(allocated, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        Assert.Equal(0, allocated);
        Assert.True(e.StatelessScheduled > 9_000, $"stateless {e.StatelessScheduled}, entries {e.Connections.Count}");
    }

    private static FlowKey Key(string src) => new(IpAddress.Parse(src), IpAddress.Parse(Vip), 5000, 80, IpProtocol.Tcp);
}
