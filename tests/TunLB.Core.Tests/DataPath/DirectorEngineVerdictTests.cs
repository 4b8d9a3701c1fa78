using TunLB.Core.DataPath;
using TunLB.Core.Flows;
using TunLB.Core.Model;
using TunLB.Core.Packets;
using static TunLB.Core.Tests.DataPath.WirePackets;

namespace TunLB.Core.Tests.DataPath;

/// <summary>
/// Every packet given to the engine has exactly one verdict, so its counters explain every drop:
/// Received = ForwardedPackets + Answered + the drops of every reason but send_error (docs/robustness.md, junk flood).
/// </summary>
public class DirectorEngineVerdictTests
{
    private const string Vip = "10.0.0.100", Client = "203.0.113.7", Vip6 = "2001:db8:100::10", Client6 = "2001:db8:c::7";
    private readonly EngineOutput _out = new();

    private static DirectorEngine Engine(int icmpBurst = 1000)
    {
        var e = new DirectorEngine(new DirectorEngineOptions { ConnectionCapacity = 4096, HashSeed = 7, IcmpRatePerSecond = 10, IcmpBurst = icmpBurst });
        var outer = IpAddress.Parse("192.168.1.1");
        Destination D(int id, string a) => new(id, IpAddress.Parse(a), 80, 1) { OuterSource = a.Contains(':') ? IpAddress.Parse("2001:db8:d::1") : outer, Mtu = 1500 };
        e.SetServices(
        [
            new VirtualService(new ServiceKey(IpAddress.Parse(Vip), 80, IpProtocol.Tcp), new TestRoundRobinScheduler(), [D(1, "192.168.1.11"), D(2, "192.168.1.12")]),
            new VirtualService(new ServiceKey(IpAddress.Parse(Vip), 53, IpProtocol.Udp), new TestRoundRobinScheduler(), [D(3, "192.168.1.13")]),
            new VirtualService(new ServiceKey(IpAddress.Parse(Vip6), 80, IpProtocol.Tcp), new TestRoundRobinScheduler(), [D(4, "2001:db8:d::11")]),
        ]);
        return e;
    }

    private static long Verdicts(DirectorEngine e)
    {
        long n = e.ForwardedPackets + e.Answered;
        for (int i = 1; i < DropReasons.Count; i++)
            if (i != (int)DropReason.SendError) n += e.Drops[i];
        return n;
    }

    /// <summary>Real packets of every kind the director handles, the seeds of the junk.</summary>
    private static List<byte[]> RealPackets()
    {
        var list = new List<byte[]>();
        for (ushort port = 1000; port < 1010; port++)
        {
            list.Add(TestPackets.Tcp(Client, port, Vip, 80, TcpFlags.Syn));
            list.Add(TestPackets.Tcp(Client, port, Vip, 80, TcpFlags.Ack, payload: 100));
        }
        list.Add(TestPackets.Udp(Client, 5000, Vip, 53, payload: 40));
        list.Add(Icmpv4(Client, Vip, 8, 0, [0, 1, 0, 1], new byte[56]));                                   // echo request
        var quoted = TestPackets.Tcp(Vip, 80, Client, 1000, TcpFlags.Ack, payload: 1400);
        list.Add(Icmpv4("198.18.0.1", Vip, 3, 4, [0, 0, 0x05, 0x78], quoted.AsSpan(0, 28)));           // frag-needed
        list.Add(Ipv6(IpProtocol.Tcp, Client6, Vip6, Tcp(1000, 80, TcpFlags.Syn)));
        list.AddRange(FragmentV4(Ipv4(IpProtocol.Udp, Client, Vip, Udp(5001, 53, 600)), 200));
        list.Add(TestPackets.Tcp(Client, 2000, Vip, 80, TcpFlags.Syn));
        list.Add(TestPackets.Tcp(Client, 2000, Vip, 80, TcpFlags.Ack, payload: 1480, dontFragment: true)); // too big with DF
        return list;
    }

    [Fact]
    public void Every_packet_of_a_junk_mix_has_exactly_one_verdict()
    {
        var e = Engine();
        var real = RealPackets();
        var rnd = new Random(14);
        long given = 0;
        for (int i = 0; i < 30_000; i++)
        {
            byte[] p = real[rnd.Next(real.Count)];
            byte[] junk = (i % 4) switch
            {
                0 => p,                                                        // the real packet
                1 => p.AsSpan(0, rnd.Next(0, p.Length)).ToArray(),             // truncated
                2 => Flip(p, rnd, rnd.Next(1, 4)),                             // 1-3 bits flipped
                _ => Random(rnd, p[0] >> 4),                                   // random bytes after a version nibble
            };
            e.ProcessInto(junk, _out, i / 10);
            given++;
        }
        Assert.Equal(given, e.Received);
        Assert.Equal(e.Received, Verdicts(e));
        Assert.True(e.ForwardedPackets > 0 && e.Answered > 0 && e.Drops[(int)DropReason.FragNeeded] > 0);
    }

    [Fact]
    public void A_suppressed_frag_needed_is_one_drop_not_two()
    {
        var e = Engine(icmpBurst: 1);
        e.ProcessInto(TestPackets.Tcp(Client, 2000, Vip, 80, TcpFlags.Syn), _out, 0);
        var big = TestPackets.Tcp(Client, 2000, Vip, 80, TcpFlags.Ack, payload: 1480, dontFragment: true);
        Assert.Equal(DropReason.FragNeeded, e.ProcessInto(big, _out, 0));
        Assert.Equal(1, _out.Count);                                            // the frag-needed
        Assert.Equal(DropReason.FragNeeded, e.ProcessInto(big, _out, 0));
        Assert.Equal(0, _out.Count);                                            // rate-limited
        Assert.Equal(2, e.Drops[(int)DropReason.FragNeeded]);
        Assert.Equal(0, e.Drops[(int)DropReason.IcmpRateLimited]);
        Assert.Equal(1, e.IcmpSuppressed);
        Assert.Equal(3, e.Received);
        Assert.Equal(e.Received, Verdicts(e));
    }

    private static byte[] Flip(byte[] p, Random rnd, int bits)
    {
        var q = (byte[])p.Clone();
        for (int b = 0; b < bits; b++) { int k = rnd.Next(q.Length * 8); q[k >> 3] ^= (byte)(1 << (k & 7)); }
        return q;
    }

    private static byte[] Random(Random rnd, int version)
    {
        var q = new byte[rnd.Next(1, 200)];
        rnd.NextBytes(q);
        q[0] = (byte)((version << 4) | (q[0] & 0x0F));
        return q;
    }
}
