using TunLB.Core.DataPath;
using TunLB.Core.Flows;
using TunLB.Core.Packets;

namespace TunLB.Core.Tests.DataPath;

public class FragmentTableTests
{
    private static readonly IpAddress Client = IpAddress.Parse("198.51.100.10"), Vip = IpAddress.Parse("203.0.113.10");

    [Fact]
    public void Adding_a_tracked_datagram_again_re_points_it_instead_of_shadowing_the_new_choice()
    {
        // Found by fuzzing (fuzz/corpus/fragments/crash-duplicate-add): the engine adds a datagram whose known
        // server went away; the old entry used to stay first in its set, so the rest of the datagram kept missing the new server.
        var t = new FragmentTable(8, 1, 30_000);
        t.Add(Client, Vip, IpProtocol.Udp, 7, 1480, 1480, 3, 1000);
        t.Add(Client, Vip, IpProtocol.Udp, 7, 0, 1480, 5, 1001);
        Assert.Equal(DropReason.None, t.Lookup(Client, Vip, IpProtocol.Udp, 7, 2960, 100, 1002, out int dest));
        Assert.Equal(5, dest);
        Assert.Equal(DropReason.FragmentOverlap, t.Lookup(Client, Vip, IpProtocol.Udp, 7, 0, 1480, 1003, out _));
        Assert.Equal(DropReason.FragmentOverlap, t.Lookup(Client, Vip, IpProtocol.Udp, 7, 1480, 8, 1003, out _));
    }

    [Fact]
    public void A_fragment_overlapping_one_seen_is_refused_and_adjacent_ones_merge()
    {
        var t = new FragmentTable(8, 1, 30_000);
        t.Add(Client, Vip, IpProtocol.Udp, 9, 0, 1480, 2, 0);
        Assert.Equal(DropReason.None, t.Lookup(Client, Vip, IpProtocol.Udp, 9, 1480, 1480, 1, out int d));
        Assert.Equal(2, d);
        Assert.Equal(DropReason.FragmentOverlap, t.Lookup(Client, Vip, IpProtocol.Udp, 9, 1472, 16, 2, out _));
        Assert.Equal(DropReason.None, t.Lookup(Client, Vip, IpProtocol.Udp, 9, 2960, 8, 3, out _));
        Assert.Equal(DropReason.None, t.Lookup(Client, Vip, IpProtocol.Udp, 10, 0, 8, 4, out int unknown));
        Assert.Equal(-1, unknown);
        Assert.Equal(DropReason.None, t.Lookup(Client, Vip, IpProtocol.Udp, 9, 0, 8, 40_000, out int expired));
        Assert.Equal(-1, expired);
    }
}
