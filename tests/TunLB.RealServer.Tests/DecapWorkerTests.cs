using System.Buffers.Binary;
using TunLB.Core.DataPath;
using TunLB.Core.Flows;
using TunLB.Core.Packets;
using TunLB.Linux;
using TunLB.Tests.Shared;

namespace TunLB.RealServer.Tests;

/// <summary>The agent's receive loop through an in-memory receiver and injector: batching, filter verdicts, counters.</summary>
public sealed class DecapWorkerTests
{
    private static readonly IpAddress Director = IpAddress.Parse("192.0.2.1");
    private static readonly IpAddress Stranger = IpAddress.Parse("198.51.100.66");
    private static readonly IpAddress Real = IpAddress.Parse("192.0.2.11");
    private static readonly IpAddress Vip = IpAddress.Parse("203.0.113.10");
    private static readonly IpAddress OtherVip = IpAddress.Parse("203.0.113.99");

    private sealed class ListInjector : IPacketInjector
    {
        public readonly List<byte[]> Packets = new();
        public bool Fail;
        public bool Inject(ReadOnlySpan<byte> packet)
        {
            if (Fail) return false;
            Packets.Add(packet.ToArray());
            return true;
        }
    }

    private static DecapFilter NewFilter() => new([Director], [Vip]);

    /// <summary>A checksummed IPv4/TCP SYN from a client to <paramref name="dst"/>, source port <paramref name="port"/> (to tell packets apart).</summary>
    private static byte[] Inner(IpAddress dst, ushort port)
    {
        var p = new byte[40];
        p[0] = 0x45; BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(2), 40);
        p[6] = 0x40; p[8] = 63; p[9] = IpProtocol.Tcp;
        IpAddress.Parse("198.51.100.10").WriteV4(p.AsSpan(12));
        dst.WriteV4(p.AsSpan(16));
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(10), Checksum.Compute(p.AsSpan(0, 20)));
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(20), port);
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(22), 80);
        p[32] = 0x50; p[33] = TcpFlags.Syn;
        return p;
    }

    private static byte[] Ipip(byte[] inner, IpAddress outerSource)
    {
        var buf = new byte[inner.Length + 20];
        Assert.Equal(buf.Length, Tunnel.Encapsulate(inner, buf, outerSource, Real, EncapKind.Ipip, 0, 0, false, 64, 7, 0));
        return buf;
    }

    /// <summary>The UDP payload (GUE header + inner packet) of a GUE-encapsulated packet.</summary>
    private static byte[] GuePayload(byte[] inner)
    {
        var buf = new byte[inner.Length + 64];
        int n = Tunnel.Encapsulate(inner, buf, Director, Real, EncapKind.Gue, 40000, 6080, false, 64, 7, 0);
        Assert.True(n > 28);
        return buf.AsSpan(28, n - 28).ToArray();
    }

    [Fact]
    public void Process_injects_the_accepted_packets_of_a_batch_in_order_and_counts_every_verdict()
    {
        var filter = NewFilter();
        var tun = new ListInjector();
        var worker = new DecapWorker(new InMemoryDatagramReceiver(), filter, DecapInput.Ipv4Packet, IpProtocol.IpIp, tun);
        using var batch = new DatagramBatch(capacity: 8);
        byte[] a = Inner(Vip, 1001), b = Inner(Vip, 1002);
        Assert.True(batch.Add(Ipip(a, Director), Director));
        Assert.True(batch.Add(Ipip(Inner(Vip, 1003), Stranger), Stranger));   // spoofed: not from a director
        Assert.True(batch.Add(Ipip(Inner(OtherVip, 1004), Director), Director)); // not for a VIP
        Assert.True(batch.Add(Ipip(b, Director), Director));

        Assert.Equal(2, worker.Process(batch));

        Assert.Equal(2, tun.Packets.Count);
        Assert.Equal(a, tun.Packets[0]);
        Assert.Equal(b, tun.Packets[1]);
        Assert.Equal(2, filter.Accepted);
        Assert.Equal(1, filter.Drops[(int)DropReason.NotFromDirector]);
        Assert.Equal(1, filter.Drops[(int)DropReason.InnerNotVip]);
        Assert.Equal(2, worker.Injected);
        Assert.Equal(0, worker.InjectErrors);
        Assert.Equal(1, worker.Batches);
    }

    [Fact]
    public void Run_takes_one_batch_per_receive_skips_timeouts_and_returns_when_the_input_closes()
    {
        var rx = new InMemoryDatagramReceiver();
        var tun = new ListInjector();
        var worker = new DecapWorker(rx, NewFilter(), DecapInput.Ipv4Packet, IpProtocol.IpIp, tun);
        rx.Enqueue((Ipip(Inner(Vip, 1), Director), Director), (Ipip(Inner(Vip, 2), Director), Director), (Ipip(Inner(Vip, 3), Director), Director));
        rx.EnqueueTimeout();
        rx.Enqueue((Ipip(Inner(Vip, 4), Director), Director));

        worker.Run(batchCapacity: 4, timeoutMs: 10);

        Assert.Equal(4, rx.Calls); // two batches, one timeout, then -1
        Assert.Equal(2, worker.Batches);
        Assert.Equal(4, worker.Injected);
        Assert.Equal([1, 2, 3, 4], tun.Packets.Select(p => (int)BinaryPrimitives.ReadUInt16BigEndian(p.AsSpan(20))));
    }

    [Fact]
    public void Injection_failures_are_counted_not_thrown()
    {
        var rx = new InMemoryDatagramReceiver();
        var tun = new ListInjector { Fail = true };
        var worker = new DecapWorker(rx, NewFilter(), DecapInput.Ipv4Packet, IpProtocol.IpIp, tun);
        rx.Enqueue((Ipip(Inner(Vip, 1), Director), Director), (Ipip(Inner(Vip, 2), Director), Director));

        worker.Run(timeoutMs: 10);

        Assert.Equal(0, worker.Injected);
        Assert.Equal(2, worker.InjectErrors);
        Assert.Equal(2, worker.Filter.Accepted);
    }

    [Fact]
    public void Ipv6_payloads_are_judged_by_the_sender_the_batch_reports()
    {
        var director6 = IpAddress.Parse("2001:db8:d::2");
        var filter = new DecapFilter([director6], [Vip]);
        var tun = new ListInjector();
        var worker = new DecapWorker(new InMemoryDatagramReceiver(), filter, DecapInput.Ipv6Payload, IpProtocol.IpIp, tun);
        using var batch = new DatagramBatch(capacity: 2);
        byte[] inner = Inner(Vip, 7);
        batch.Add(inner, director6);                                  // raw IPv6 sockets deliver no outer header
        batch.Add(Inner(Vip, 8), IpAddress.Parse("2001:db8:bad::1"));

        Assert.Equal(1, worker.Process(batch));

        Assert.Equal(inner, Assert.Single(tun.Packets));
        Assert.Equal(1, filter.Drops[(int)DropReason.NotFromDirector]);
    }

    [Fact]
    public void Gue_payloads_are_decapsulated_from_directors_only()
    {
        var filter = NewFilter();
        var tun = new ListInjector();
        var worker = new DecapWorker(new InMemoryDatagramReceiver(), filter, DecapInput.Gue, 0, tun);
        using var batch = new DatagramBatch(capacity: 2);
        byte[] inner = Inner(Vip, 9);
        batch.Add(GuePayload(inner), Director);
        batch.Add(GuePayload(Inner(Vip, 10)), Stranger);

        Assert.Equal(1, worker.Process(batch));

        Assert.Equal(inner, Assert.Single(tun.Packets));
        Assert.Equal(1, filter.Drops[(int)DropReason.NotFromDirector]);
    }

    [Fact]
    public void Batch_holds_up_to_its_capacity_and_reports_each_datagram_and_sender()
    {
        using var batch = new DatagramBatch(capacity: 2, slotSize: 128);
        var v6 = IpAddress.Parse("2001:db8::5");
        Assert.True(batch.Add(new byte[] { 1, 2, 3 }, Director));
        Assert.False(batch.WasFull);
        Assert.True(batch.Add(new byte[200], v6));                   // longer than a slot: cut to the slot
        Assert.False(batch.Add(new byte[1], Director));
        Assert.True(batch.WasFull);
        Assert.Equal(2, batch.Count);
        Assert.Equal(new byte[] { 1, 2, 3 }, batch[0].ToArray());
        Assert.Equal(128, batch[1].Length);
        Assert.Equal(Director, batch.Source(0));
        Assert.Equal(v6, batch.Source(1));
        Assert.Throws<ArgumentOutOfRangeException>(() => batch[2].Length);
        batch.Clear();
        Assert.Equal(0, batch.Count);
        Assert.False(batch.WasFull);
    }
}
