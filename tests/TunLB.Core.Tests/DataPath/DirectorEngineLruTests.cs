using TunLB.Core.Connections;
using TunLB.Core.DataPath;
using TunLB.Core.Flows;
using TunLB.Core.Model;
using TunLB.Core.Packets;

namespace TunLB.Core.Tests.DataPath;

/// <summary>
/// A busy connection moves to the LRU tail at most once per <see cref="DirectorEngine.LruTouchIntervalMs"/>
/// (or on a state change), so eviction order is exact to within that interval.
/// </summary>
public class DirectorEngineLruTests
{
    private const string Client = "203.0.113.7", Vip = "10.0.0.100";

    private static DirectorEngine TwoEntryEngine()
    {
        var dests = new[] { new Destination(1, IpAddress.Parse("192.168.1.11"), 80, 1) { OuterSource = IpAddress.Parse("192.168.1.1") } };
        var svc = new VirtualService(new ServiceKey(IpAddress.Parse(Vip), 80, IpProtocol.Tcp), new TestRoundRobinScheduler(), dests);
        var e = new DirectorEngine(new DirectorEngineOptions { ConnectionCapacity = 2, FullTablePolicy = FullTablePolicy.EvictOldest, HashSeed = 3 });
        e.SetServices([svc]);
        return e;
    }

    private static DropReason Send(DirectorEngine e, ushort port, byte flags, long now) =>
        e.ProcessOne(TestPackets.Tcp(Client, port, Vip, 80, flags), new byte[2048], now, out _, out _);

    [Theory]
    [InlineData(0, 1100, 2)]   // A's ACK comes 1.1 s after its last move: A moves to the tail, so B is the oldest
    [InlineData(0, 500, 1)]    // within 1 s (same state): A is not moved, so A is still the oldest
    public void EvictionFollowsTouchesToWithinTheInterval(long synAt, long ackAt, ushort expectedEvictedPort)
    {
        var e = TwoEntryEngine();
        Assert.Equal(DropReason.None, Send(e, 1, TcpFlags.Syn, synAt));          // A: SYN_RECV
        Assert.Equal(DropReason.None, Send(e, 1, TcpFlags.Ack, synAt + 10));     // A: ESTABLISHED (state change: moved)
        Assert.Equal(DropReason.None, Send(e, 2, TcpFlags.Syn, synAt + 20));     // B
        Assert.Equal(DropReason.None, Send(e, 1, TcpFlags.Ack, ackAt));          // A again, same state
        Assert.Equal(DropReason.None, Send(e, 3, TcpFlags.Syn, ackAt + 1));      // C evicts the oldest

        Assert.Equal(1, e.Connections.Evictions);
        ushort kept = expectedEvictedPort == 1 ? (ushort)2 : (ushort)1;
        Assert.Equal(-1, e.Connections.Find(Key(expectedEvictedPort)));
        Assert.True(e.Connections.Find(Key(kept)) >= 0);
    }

    private static FlowKey Key(ushort port) =>
        new(IpAddress.Parse(Client), IpAddress.Parse(Vip), port, 80, IpProtocol.Tcp);
}
