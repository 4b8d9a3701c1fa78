using TunLB.Control.Configuration;
using TunLB.Core.DataPath;
using TunLB.Core.Flows;
using TunLB.Core.Model;
using TunLB.Core.Packets;
using TunLB.Core.Scheduling;
using TunLB.Core.Tests.DataPath;
using TunLB.Director.Sync;
using TunLB.Director.Workers;

namespace TunLB.Director.Tests.Sync;

/// <summary>
/// Two directors' sync services joined by an in-memory network, driven tick by tick (no threads, no sockets):
/// live records, bulk resync, the rate cap and queue bound, and messages that must change nothing.
/// </summary>
public class SyncServiceTests
{
    private const string Vip = "203.0.113.10";
    private static readonly IpAddress A = IpAddress.Parse("192.0.2.2"), B = IpAddress.Parse("192.0.2.3"), Stranger = IpAddress.Parse("192.0.2.99");
    private const string Secret = "0123456789abcdef-shared";
    private readonly byte[] _out = new byte[2048];

    /// <summary>Keeps what was sent, by destination; the test delivers it.</summary>
    private sealed class Wire : ISyncTransport
    {
        public readonly List<(IpAddress To, byte[] Data)> Sent = [];
        public int Receive(Span<byte> buffer, int timeoutMs, out IpAddress from) { from = default; return 0; }
        public bool Send(ReadOnlySpan<byte> datagram, IpAddress peer) { Sent.Add((peer, datagram.ToArray())); return true; }
        public void Dispose() { }
    }

    private sealed class Director
    {
        public required DirectorEngine Engine;
        public required VirtualService Service;
        public required SyncService Sync;
        public required Wire Wire;
        public required SyncStatus Status;
        public required IpAddress Address;
    }

    private static Director Make(IpAddress self, IpAddress[] peers, int firstId, string key = Secret, int rate = 1000, int queue = 1024, int resyncWait = 5)
    {
        var svc = new VirtualService(new ServiceKey(IpAddress.Parse(Vip), 80, IpProtocol.Tcp), SchedulerFactory.Create("rr"),
        [
            new Destination(firstId, IpAddress.Parse("192.0.2.21"), 80, 1) { OuterSource = self },
            new Destination(firstId + 1, IpAddress.Parse("192.0.2.22"), 80, 1) { OuterSource = self },
            new Destination(firstId + 2, IpAddress.Parse("192.0.2.23"), 80, 1) { OuterSource = self },
        ]);
        var engine = new DirectorEngine(new DirectorEngineOptions { ConnectionCapacity = 1024, SloppyTcp = true });
        engine.SetServices([svc]);
        var settings = new SyncSettings
        {
            Enabled = true, Peers = peers, Key = key, MaxMessagesPerSecond = rate, QueueLength = queue, ResyncWait = resyncWait,
        };
        var wire = new Wire();
        var status = new SyncStatus();
        var sync = new SyncService(settings, [engine], new WorkerCommandQueue(1, TimeSpan.FromSeconds(1)), wire, status, clock: () => 1000);
        sync.AttachQueues();
        return new Director { Engine = engine, Service = svc, Sync = sync, Wire = wire, Status = status, Address = self };
    }

    /// <summary>Delivers everything <paramref name="from"/> sent to <paramref name="to"/>.</summary>
    private static int Deliver(Director from, Director to)
    {
        int n = 0;
        foreach (var (dst, data) in from.Wire.Sent.Where(s => s.To == to.Address)) { to.Sync.Handle(data, from.Address); n++; }
        from.Wire.Sent.Clear();
        return n;
    }

    private byte[] Syn(ushort port) => TestPackets.Tcp("198.51.100.10", port, Vip, 80, TcpFlags.Syn);
    private static FlowKey Flow(ushort port) => new(IpAddress.Parse("198.51.100.10"), IpAddress.Parse(Vip), port, 80, IpProtocol.Tcp);

    private static IpAddress RealOf(Director d, FlowKey k)
    {
        int i = d.Engine.Connections.Find(k);
        Assert.True(i >= 0, $"{k} is not in the table");
        return d.Engine.FindDestination(d.Engine.Connections[i].DestinationId)!.Address;
    }

    [Fact]
    public void Connections_made_through_one_director_reach_the_other_with_the_same_real_server()
    {
        var a = Make(A, [B], 1, resyncWait: 0);
        var b = Make(B, [A], 101, resyncWait: 0);
        a.Sync.Begin(0);
        b.Sync.Begin(0);
        a.Wire.Sent.Clear();
        var hops = new Dictionary<ushort, IpAddress>();
        for (ushort p = 40000; p < 40030; p++)
        {
            a.Engine.ProcessOne(Syn(p), _out, 10, out _, out var hop);
            hops[p] = hop;
        }
        a.Sync.Tick(20);
        Assert.Equal(1, Deliver(a, b)); // 30 records in one message
        foreach (var (p, hop) in hops) Assert.Equal(hop, RealOf(b, Flow(p)));
        var c = a.Sync.Counters;
        Assert.Equal((1L, 30L), (c.MessagesSent, c.RecordsSent));
        Assert.Equal((1L, 30L, 30L), (b.Sync.Counters.MessagesReceived, b.Sync.Counters.RecordsReceived, b.Sync.Counters.RecordsApplied));

        // B's next segment of such a flow goes to A's choice, though B's own rr would have started elsewhere.
        b.Engine.ProcessOne(TestPackets.Tcp("198.51.100.10", 40007, Vip, 80, TcpFlags.Ack), _out, 30, out _, out var bHop);
        Assert.Equal(hops[40007], bHop);
    }

    [Fact]
    public void Messages_from_a_stranger_with_another_key_or_broken_change_nothing_and_are_counted_by_reason()
    {
        var a = Make(A, [B], 1, resyncWait: 0);
        var b = Make(B, [A], 101, resyncWait: 0);
        var evil = Make(A, [B], 1, key: "another-key-of-16+chars", resyncWait: 0);
        a.Sync.Begin(0); b.Sync.Begin(0); evil.Sync.Begin(0);
        a.Wire.Sent.Clear(); evil.Wire.Sent.Clear();
        a.Engine.ProcessOne(Syn(41000), _out, 10, out _, out _);
        evil.Engine.ProcessOne(Syn(41001), _out, 10, out _, out _);
        a.Sync.Tick(20);
        evil.Sync.Tick(20);
        var good = a.Wire.Sent.Single().Data;
        var forged = evil.Wire.Sent.Single().Data;

        b.Sync.Handle(good, Stranger);            // right key, wrong sender
        b.Sync.Handle(forged, A);                 // right sender, wrong key
        var broken = (byte[])good.Clone();
        broken[5] = 9;                            // version
        b.Sync.Handle(broken, A);
        Assert.Equal(0, b.Engine.Connections.Count);
        var c = b.Sync.Counters;
        Assert.Equal((1L, 1L, 1L, 0L, 0L), (c.NonPeer, c.BadMac, c.Malformed, c.MessagesReceived, c.RecordsApplied));

        var dto = SyncDto.From(b.Status);
        Assert.Equal((1L, 1L, 1L), (dto.MessagesDropped["non_peer"], dto.MessagesDropped["bad_mac"], dto.MessagesDropped["malformed"]));

        b.Sync.Handle(good, A);                   // the same message from the peer is taken
        Assert.Equal(1, b.Engine.Connections.Count);
    }

    [Fact]
    public void A_starting_director_asks_for_the_peers_table_and_is_synced_once_it_has_it()
    {
        var a = Make(A, [B], 1, resyncWait: 0);
        a.Sync.Begin(0);
        for (ushort p = 42000; p < 42100; p++) a.Engine.ProcessOne(Syn(p), _out, 10, out _, out _);
        a.Sync.Tick(20);
        a.Wire.Sent.Clear(); // B was not there for the live records

        var b = Make(B, [A], 101);
        b.Sync.Begin(1000);
        Assert.False(b.Status.Synced);
        b.Sync.Tick(1000);                        // asks A
        Assert.Equal(1, Deliver(b, a));
        Assert.Equal(1L, b.Sync.Counters.BulkRequestsSent);
        a.Sync.Tick(1010);                        // A streams its table, then BulkEnd
        int messages = Deliver(a, b);
        Assert.Equal(5, messages);                // 100 records: 33 + 33 + 33 + 1, then the end marker
        Assert.True(b.Status.Synced);
        Assert.Equal("synced", b.Status.State);
        Assert.Equal(100, b.Engine.Connections.Count);
        Assert.Equal(100L, a.Sync.Counters.BulkRecordsSent);
        for (ushort p = 42000; p < 42100; p++) Assert.Equal(RealOf(a, Flow(p)), RealOf(b, Flow(p)));
    }

    [Fact]
    public void Without_an_answer_a_director_serves_after_resync_wait_and_asks_again_meanwhile()
    {
        var b = Make(B, [A], 101, resyncWait: 3);
        b.Sync.Begin(0);
        b.Sync.Tick(0);
        b.Sync.Tick(500);
        b.Sync.Tick(1000);
        Assert.False(b.Status.Synced);
        Assert.Equal(2L, b.Sync.Counters.BulkRequestsSent); // at 0 and 1000 ms
        b.Sync.Tick(3000);
        Assert.True(b.Status.Synced);
        Assert.Contains("resync_wait", b.Status.State);
    }

    [Fact]
    public void Records_over_the_message_cap_are_dropped_and_counted_and_a_full_ring_drops_too()
    {
        var a = Make(A, [B], 1, rate: 1, queue: 16, resyncWait: 0); // burst of one message
        a.Sync.Begin(0);
        a.Wire.Sent.Clear();
        for (ushort p = 43000; p < 43020; p++) a.Engine.ProcessOne(Syn(p), _out, 10, out _, out _);
        Assert.Equal(4L, a.Sync.QueueFull);                // the ring holds 16
        a.Sync.Tick(0);                                     // 16 records: one message, sent with the one token
        for (ushort p = 43020; p < 43025; p++) a.Engine.ProcessOne(Syn(p), _out, 10, out _, out _);
        a.Sync.Tick(10);                                    // no token left: 5 records dropped
        Assert.Equal(1, a.Wire.Sent.Count(s => s.Data.Length > 24));
        Assert.Equal((16L, 5L), (a.Sync.Counters.RecordsSent, a.Sync.Counters.RateCap));
        var dto = SyncDto.From(a.Status);
        Assert.Equal((4L, 5L), (dto.RecordsDropped["queue_full"], dto.RecordsDropped["rate_cap"]));
    }

    [Fact]
    public void A_record_for_a_real_this_director_does_not_have_is_counted_and_dropped()
    {
        var a = Make(A, [B], 1, resyncWait: 0);
        var b = Make(B, [A], 101, resyncWait: 0);
        b.Service.Destinations[0].Alive = false; // 192.0.2.21 deleted on B
        a.Sync.Begin(0); b.Sync.Begin(0);
        a.Wire.Sent.Clear();
        for (ushort p = 44000; p < 44006; p++) a.Engine.ProcessOne(Syn(p), _out, 10, out _, out _);
        a.Sync.Tick(10);
        Deliver(a, b);
        Assert.Equal((2L, 4L), (b.Sync.Counters.UnknownReal, b.Sync.Counters.RecordsApplied)); // rr: 2 of 6 went to .21
        Assert.Equal(4, b.Engine.Connections.Count);
    }
}
