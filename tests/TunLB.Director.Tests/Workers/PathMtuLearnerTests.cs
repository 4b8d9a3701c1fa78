using System.Buffers.Binary;
using TunLB.Core.Flows;
using TunLB.Core.Tests.DataPath;
using TunLB.Director.Workers;
using TunLB.Tests.Shared;
using static TunLB.Director.Tests.Fixtures;
using Egress = TunLB.Core.Tests.Egress.EgressPackets;

namespace TunLB.Director.Tests.Workers;

/// <summary>The path-MTU learner fed frag-needed messages through an in-memory receiver.</summary>
public class PathMtuLearnerTests
{
    [Fact]
    public void Learns_a_path_MTU_from_frag_needed_about_our_tunnel_packets_and_forgets_it_after_pmtu_expires()
    {
        var s = NewState();
        var ipip = new byte[200];
        s.Engine.ProcessOne(Syn(40000), ipip, 1000, out int len, out var real);
        var ours = FragNeeded(ipip.AsSpan(0, len).ToArray(), 1400);
        var forged = ipip.AsSpan(0, len).ToArray();
        IpAddress.Parse("198.18.5.5").WriteV4(forged.AsSpan(12)); // not our source toward that server: ignored
        var rx = new InMemoryPacketReceiver();
        rx.Enqueue(FragNeeded(forged, 1300), ours);
        rx.EnqueueTimeout();
        rx.Complete();
        var dest = s.Services.SelectMany(v => v.Destinations).Single(d => d.Address == real);
        var times = new Queue<long>([0, 10, 20, 700_000]);
        int mtuBeforeExpiry = -1;
        var log = new List<string>();
        var learner = new PathMtuLearner(rx, ipv6: false, () => s.Services, expiresSeconds: 600, log.Add,
            clock: () => { if (times.Count == 1) mtuBeforeExpiry = dest.Mtu; return times.Dequeue(); });

        learner.Run(); // returns on the receiver's -1

        Assert.Equal(1400, mtuBeforeExpiry);
        Assert.Equal(0, dest.Mtu); // back to unknown
        Assert.Equal(
            [
                $"tunlb director: path MTU toward {real} is 1400 (was unknown), learned from ICMP frag-needed",
                $"tunlb director: path MTU 1400 toward {real} expired after 600 s; back to unknown",
            ], log);
    }

    /// <summary>A router's frag-needed about <paramref name="tunnelPacket"/> with next-hop MTU <paramref name="mtu"/>.</summary>
    private static byte[] FragNeeded(byte[] tunnelPacket, ushort mtu)
    {
        var p = Egress.IcmpError("198.18.2.1", 3, 4, tunnelPacket, quoteBytes: 48, quotedTtl: 63);
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(26), mtu);
        return p;
    }
}
