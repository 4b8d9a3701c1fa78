using TunLB.Core.Flows;
using TunLB.Core.Packets;
using TunLB.Director.Management;
using TunLB.Director.Workers;
using TunLB.Tests.Shared;
using static TunLB.Director.Tests.Fixtures;
using Egress = TunLB.Core.Tests.Egress.EgressPackets;

namespace TunLB.Director.Tests.Workers;

/// <summary>The packet loop through in-memory ports: batching, egress answers, send errors, control work, expiry, stop.</summary>
public class DirectorWorkerTests
{
    private readonly DirectorState _s = NewState();
    private readonly InMemoryPacketReceiver _rx = new();
    private readonly InMemoryPacketSender _tx = new();

    private DirectorWorker Worker(Func<long>? clock = null, List<string>? errors = null) =>
        new(0, _rx, _tx, _s.Engines[0], _s.Egress, _s.Commands, _s.Sent, clock ?? (() => 1000),
            errors is null ? null : l => { lock (errors) errors.Add(l); });

    private static byte[][] Syns(int n, ushort firstPort = 40000) =>
        Enumerable.Range(0, n).Select(i => Syn((ushort)(firstPort + i))).ToArray();

    /// <summary>Runs the worker on its own thread (attached, as the runtime does) and returns that thread.</summary>
    private Thread StartOnThread(DirectorWorker w)
    {
        _s.Commands.SetAttached(0, true);
        var t = new Thread(w.Run) { IsBackground = true, Name = "test-worker" };
        t.Start();
        return t;
    }

    [Fact]
    public void Queued_packets_leave_in_one_SendMany()
    {
        _rx.Enqueue(Syns(5));
        _rx.Complete();
        Worker().Run();

        var call = Assert.Single(_tx.Calls);
        Assert.Equal(5, call.Count);
        Assert.All(call, p => Assert.Equal(OutputKind.Tunnel, p.Meta.Kind));
        Assert.All(call, p => Assert.Equal(IpProtocol.IpIp, p.Bytes[9])); // IPIP to a real server
        Assert.All(call, p => Assert.Contains(p.Meta.NextHop.ToString(), new[] { "192.0.2.11", "192.0.2.12" }));
        Assert.Equal(5, _s.Engines[0].ForwardedPackets);
        // The totals the API and the exit summary read come from the sender's counters.
        Assert.Equal(5, _s.Sent.Packets);
        Assert.Equal(call.Sum(p => (long)p.Bytes.Length), _s.Sent.Bytes);
    }

    [Fact]
    public void A_batch_holds_at_most_32_inputs()
    {
        _rx.Enqueue(Syns(70));
        _rx.Complete();
        Worker().Run();

        Assert.Equal([32, 32, 6], _tx.Calls.Select(c => c.Count));
        Assert.Equal(70, _s.Sent.Packets);
    }

    [Fact]
    public void A_batch_ends_early_when_the_output_buffer_runs_short()
    {
        // 30,000-byte UDP datagrams: each leaves as one 30,020-byte IPIP packet. The 1 MiB output buffer must keep
        // 160 KiB free for the next input, so a batch closes after 30 of them (30 x 30,020 leaves 147,976 bytes).
        var big = Enumerable.Range(0, 40).Select(i => TestPackets.Udp(Client, (ushort)(50000 + i), Vip, 53, payload: 30000 - 28)).ToArray();
        _rx.Enqueue(big);
        _rx.Complete();
        Worker().Run();

        Assert.All(_tx.Calls.SelectMany(c => c), p => Assert.Equal(30_020, p.Bytes.Length));
        Assert.Equal([30, 10], _tx.Calls.Select(c => c.Count));
    }

    [Fact]
    public void Ipv6_egress_answers_are_recorded_not_forwarded()
    {
        var answer = TunLB.Core.Tests.Egress.EgressPacketsV6.IcmpError("2001:db8:18::1", 3, 0,
            TunLB.Core.Tests.Egress.EgressPacketsV6.Probe(TunLB.Core.Tests.Egress.EgressPacketsV6.Vip, 1, 0));
        _rx.Enqueue(Syn(40000), answer);
        _rx.Complete();
        Worker().Run();

        Assert.Equal(1, _s.Egress.Recorded);
        Assert.Equal(TunLB.Core.Flows.IpAddress.Parse("2001:db8:18::1"), Assert.Single(_s.Egress.GetAnswers(Egress.Session)).From);
        var call = Assert.Single(_tx.Calls);
        Assert.Single(call); // the SYN only
    }

    [Fact]
    public void Egress_answers_are_recorded_not_forwarded()
    {
        var answer = Egress.IcmpError("198.18.2.1", 11, 0, Egress.Probe(Egress.Vip, 1, 0));
        _rx.Enqueue(Syn(40000), answer, Syn(40001));
        _rx.Complete();
        Worker().Run();

        Assert.Equal(1, _s.Egress.Recorded);
        var call = Assert.Single(_tx.Calls);
        Assert.Equal(2, call.Count); // the two SYNs only
        Assert.All(call, p => Assert.Equal(IpProtocol.IpIp, p.Bytes[9]));
        Assert.All(_s.Engines[0].Drops, d => Assert.Equal(0, d)); // the engine never saw the answer
    }

    [Fact]
    public void Other_ICMP_goes_to_the_engine()
    {
        // An ICMP error that quotes no egress probe is the engine's (here: no flow to forward it to, so a drop).
        var notAnswer = Egress.IcmpError("198.18.2.1", 11, 0, Syn(40000), to: Vip);
        _rx.Enqueue(notAnswer);
        _rx.Complete();
        Worker().Run();

        Assert.Equal(0, _s.Egress.Recorded);
        Assert.Equal(1, _s.Engines[0].Drops.Sum());
    }

    [Fact]
    public void Send_failures_count_as_send_error_drops()
    {
        _tx.FailPerCall = 2;
        _rx.Enqueue(Syns(5));
        _rx.Complete();
        Worker().Run();

        Assert.Equal(2, _s.Engines[0].Drops[(int)DropReason.SendError]);
        Assert.Equal(3, _s.Sent.Packets);
    }

    [Fact]
    public void Queued_commands_run_on_the_worker_thread()
    {
        var w = Worker();
        var t = StartOnThread(w);
        try
        {
            int[] ran = _s.Commands.Run([0], _ => Environment.CurrentManagedThreadId);
            Assert.Equal(t.ManagedThreadId, ran[0]);
            Assert.NotEqual(Environment.CurrentManagedThreadId, ran[0]);
        }
        finally
        {
            _rx.Complete();
            Assert.True(t.Join(5000));
        }
        Assert.False(_s.Commands.AnyAttached); // detached on the way out: later work runs inline
    }

    [Fact]
    public void Expiry_and_heartbeat_every_100_ms()
    {
        long t = 1000;
        var w = Worker(clock: () => t += 50); // every read of the clock is 50 ms later
        _rx.Enqueue(Syn(40000));
        _rx.EnqueueTimeout(10);
        _rx.Complete();
        w.Run();

        // Clock reads: 1050 at start, then one per loop: 1100 (the SYN), 1150 ... 1600 (ten timeouts): beats at
        // 1150, 1250, 1350, 1450 and 1550.
        Assert.Equal(5, w.Heartbeat);
        Assert.Equal(1, _s.Engines[0].Connections.Count); // nothing expired yet

        // An hour later the next tick expires the connection.
        var times = new Queue<long>([2000, 3_602_000]);
        var later = Worker(clock: () => times.Dequeue());
        _rx.EnqueueTimeout(); // read before the -1 of Complete above
        later.Run();
        Assert.Equal(1, later.Heartbeat);
        Assert.Equal(0, _s.Engines[0].Connections.Count);
    }

    [Fact]
    public void Stops_when_the_receiver_closes_after_sending_what_it_read()
    {
        var w = Worker();
        var t = StartOnThread(w);
        _rx.Enqueue(Syns(3));
        _rx.Complete();
        Assert.True(t.Join(5000), "the worker did not stop on -1");
        Assert.Equal(3, _tx.Calls.Sum(c => c.Count));
        Assert.False(_s.Commands.AnyAttached);
    }

    [Fact]
    public void Stop_ends_the_loop_within_one_wait()
    {
        var w = Worker();
        var t = StartOnThread(w);
        Thread.Sleep(50);
        Assert.True(t.IsAlive);
        w.Stop();
        Assert.True(t.Join(2000), "the worker did not stop");
        Assert.False(_s.Commands.AnyAttached);
    }

    [Fact]
    public void A_failing_loop_is_logged_with_the_worker_name()
    {
        var errors = new List<string>();
        var w = new DirectorWorker(0, _rx, new ThrowingSender(), _s.Engines[0], _s.Egress, _s.Commands, _s.Sent, () => 1000,
            l => { lock (errors) errors.Add(l); }, "worker 0");
        _s.Commands.SetAttached(0, true);
        _rx.Enqueue(Syn(40000));
        w.Run(); // returns: the exception ends the loop

        Assert.StartsWith("tunlb director: worker 0 stopped: System.InvalidOperationException: boom", Assert.Single(errors));
        Assert.False(_s.Commands.AnyAttached);
    }

    private sealed class ThrowingSender : TunLB.Linux.IPacketSender
    {
        public int SendMany(ReadOnlySpan<byte> buffer, ReadOnlySpan<OutputPacket> packets) => throw new InvalidOperationException("boom");
        public long SentPackets(OutputKind kind) => 0;
        public long SentBytes => 0;
    }
}
