using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using TunLB.Core.Packets;

namespace TunLB.Linux.Tests;

/// <summary>
/// A multi-queue TUN device (IFF_MULTI_QUEUE) as the director opens it with workers &gt; 1: one port per queue, the
/// kernel picks the queue per packet from its flow hash. Inside a private namespace; only 198.18.0.1 and
/// 203.0.113.10, nothing leaves it.
/// </summary>
public sealed class MultiQueueTunTests
{
    private const string TunAddress = "198.18.0.1";
    private const string Vip = "203.0.113.10";

    private sealed record Received(int Queue, ushort SourcePort, bool Fragment, ushort Id);

    /// <summary>Reads both queues (non-blocking) until <paramref name="expected"/> UDP packets arrived or 5 s passed.</summary>
    private static List<Received> Drain(TunDevice[] queues, int expected)
    {
        var got = new List<Received>();
        var buffer = new byte[65536];
        var sw = Stopwatch.StartNew();
        while (got.Count < expected && sw.Elapsed < TimeSpan.FromSeconds(5))
        {
            bool any = false;
            for (int q = 0; q < queues.Length; q++)
            {
                int n = queues[q].Receive(buffer, 0);
                Assert.True(n >= 0, $"queue {q} closed");
                if (n < 28 || buffer[0] >> 4 != 4 || buffer[9] != IpProtocol.Udp) continue;
                any = true;
                ushort frag = BinaryPrimitives.ReadUInt16BigEndian(buffer.AsSpan(6));
                bool isFragment = (frag & 0x3FFF) != 0;
                bool first = (frag & 0x1FFF) == 0;
                ushort sport = first ? BinaryPrimitives.ReadUInt16BigEndian(buffer.AsSpan(20)) : (ushort)0;
                got.Add(new Received(q, sport, isFragment, BinaryPrimitives.ReadUInt16BigEndian(buffer.AsSpan(4))));
            }
            if (!any) Thread.Sleep(5);
        }
        return got;
    }

    [Fact]
    public void Packets_of_one_flow_always_arrive_on_the_same_queue()
    {
        using var ns = new TestNetns();
        var queues = new TunDevice[2];
        try
        {
            queues[0] = ns.Run(() => TunDevice.Open("tlbmq%d", out _, multiQueue: true));
            string dev = queues[0].Name;
            queues[1] = ns.Run(() => TunDevice.Open(dev, multiQueue: true));
            Assert.Equal(dev, queues[1].Name);
            ns.Exec("addr", "add", TunAddress + "/32", "dev", dev);
            ns.Exec("link", "set", dev, "mtu", "1500", "up");
            ns.Exec("route", "add", Vip + "/32", "dev", dev);

            const int Flows = 32, PerFlow = 4;
            var sockets = new List<Socket>();
            try
            {
                ns.Run(() =>
                {
                    for (int f = 0; f < Flows; f++)
                    {
                        var s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
                        s.Bind(new IPEndPoint(IPAddress.Parse(TunAddress), 42000 + f));
                        sockets.Add(s);
                    }
                    var target = new IPEndPoint(IPAddress.Parse(Vip), 5000);
                    for (int round = 0; round < PerFlow; round++)
                        foreach (var s in sockets) s.SendTo(new byte[64], target);
                    // One 4000-byte datagram from each of 4 ports: the kernel fragments it (MTU 1500).
                    for (int f = 0; f < 4; f++) sockets[f].SendTo(new byte[4000], target);
                });
            }
            finally
            {
                foreach (var s in sockets) s.Dispose();
            }

            var got = Drain(queues, Flows * PerFlow + 4 * 3);
            var whole = got.Where(r => !r.Fragment).ToList();
            Assert.Equal(Flows * PerFlow, whole.Count);
            // Every flow (source port) on exactly one queue.
            foreach (var flow in whole.GroupBy(r => r.SourcePort))
                Assert.Single(flow.Select(r => r.Queue).Distinct());
            // With 32 flows both queues are used (all on one queue: probability 2^-31).
            Assert.Equal(2, whole.Select(r => r.Queue).Distinct().Count());

            // Fragments: the kernel hashes them by addresses only (no ports in a non-first fragment), so all
            // fragments of all four datagrams (same addresses, different ports) land on one queue, which need not
            // be their flow's queue: the reason workers look up flows in each other's tables.
            var frags = got.Where(r => r.Fragment).ToList();
            Assert.Equal(12, frags.Count);
            Assert.Single(frags.Select(r => r.Queue).Distinct());
        }
        finally
        {
            foreach (var q in queues) q?.Dispose();
        }
    }
}
