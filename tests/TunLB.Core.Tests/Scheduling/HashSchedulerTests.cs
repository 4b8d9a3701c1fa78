using TunLB.Core.Flows;
using TunLB.Core.Model;
using TunLB.Core.Scheduling;
using static TunLB.Core.Tests.Scheduling.SchedTestUtil;

namespace TunLB.Core.Tests.Scheduling;

public class HashSchedulerTests
{
    [Fact]
    public void Sh_same_source_same_server_regardless_of_port()
    {
        var d = Dests(10);
        var s = Updated(Create("sh"), d);
        foreach (var f in RandomFlows(2000))
        {
            Destination? a = s.Schedule(f, d);
            Assert.NotNull(a);
            Assert.Same(a, s.Schedule(Flow(f.Source.V4, (ushort)(f.SourcePort ^ 0x5A5A)), d));
        }
    }

    [Fact]
    public void Sh_port_flag_spreads_one_client_over_servers()
    {
        var d = Dests(8);
        var s = Updated(Create("sh", 65537, "sh-port"), d);
        var flows = new FlowKey[4000];
        for (int i = 0; i < flows.Length; i++) flows[i] = Flow(0xC0000201, (ushort)(1024 + i));
        var counts = Counts(s, d, flows, out int nulls);
        Assert.Equal(0, nulls);
        Assert.All(counts, c => Assert.InRange(c, 250, 750)); // one client, all servers used
        Assert.Same(s.Schedule(flows[7], d), s.Schedule(flows[7], d));
    }

    [Fact]
    public void Sh_buckets_follow_weights_in_canonical_order()
    {
        var d = Dests(1, 2, 1);
        var s = (SourceHashScheduler)Updated(Create("sh"), d);
        var b = s.Table.Buckets;
        // A B B C A B B C ...
        for (int i = 0; i < HashBuckets.Size; i++)
            Assert.Same(d[(i % 4) switch { 0 => 0, 1 or 2 => 1, _ => 2 }], b[i]);

        // gcd normalisation: 100:200:100 is the same table as 1:2:1.
        var d2 = Dests(1, 2, 1);
        for (int i = 0; i < 3; i++) d2[i].Weight *= 100;
        var s2 = (SourceHashScheduler)Updated(Create("sh"), d2);
        for (int i = 0; i < HashBuckets.Size; i++)
            Assert.Equal(Array.IndexOf(d, b[i]), Array.IndexOf(d2, s2.Table.Buckets[i]));
    }

    [Fact]
    public void Sh_table_is_independent_of_configuration_order()
    {
        var d = Dests(3, 1, 2, 5, 1);
        var rev = d.Reverse().ToArray();
        var a = (SourceHashScheduler)Updated(Create("sh"), d);
        var b = (SourceHashScheduler)Updated(Create("sh"), rev);
        Assert.Equal(a.Table.Buckets, b.Table.Buckets);
    }

    [Fact]
    public void Sh_spread_is_roughly_even()
    {
        var d = Dests(8);
        var s = Updated(Create("sh"), d);
        var counts = Counts(s, d, RandomFlows(80_000), out int nulls);
        Assert.Equal(0, nulls);
        // 32 buckets each; hashing noise over 256 buckets is a few percent.
        Assert.All(counts, c => Assert.InRange(c, 10_000 * 0.8, 10_000 * 1.2));
    }

    [Fact]
    public void Sh_without_fallback_returns_null_for_unavailable_owner()
    {
        var d = Dests(4);
        var s = Updated(Create("sh"), d);
        var flows = RandomFlows(4000);
        var before = flows.Select(f => s.Schedule(f, d)).ToArray();
        d[2].UpperThreshold = 1; Connect(d[2]); // overloaded, no update needed
        for (int i = 0; i < flows.Length; i++)
        {
            Destination? now = s.Schedule(flows[i], d);
            if (before[i] == d[2]) Assert.Null(now);
            else Assert.Same(before[i], now);
        }
    }

    [Fact]
    public void Sh_fallback_moves_only_the_failed_servers_clients_and_spreads_them()
    {
        var d = Dests(4);
        var s = Updated(Create("sh", 65537, "sh-fallback"), d);
        var flows = RandomFlows(8000);
        var before = flows.Select(f => s.Schedule(f, d)).ToArray();
        d[2].UpperThreshold = 1; Connect(d[2]);
        var moved = new int[4];
        for (int i = 0; i < flows.Length; i++)
        {
            Destination? now = s.Schedule(flows[i], d);
            Assert.NotNull(now);
            Assert.NotSame(d[2], now);
            if (before[i] == d[2]) moved[Array.IndexOf(d, now)]++;
            else Assert.Same(before[i], now);
        }
        Assert.Equal(0, moved[2]);
        Assert.All(new[] { moved[0], moved[1], moved[3] }, m => Assert.True(m > 200, $"moved {string.Join(",", moved)}"));
        // Only one available server: everyone reaches it.
        d[0].Alive = false; d[1].Weight = 0;
        Assert.All(flows, f => Assert.Same(d[3], s.Schedule(f, d)));
    }

    [Fact]
    public void Dh_hashes_the_destination_address()
    {
        var d = Dests(6);
        var s = Updated(Create("dh"), d);
        var r = new Random(7);
        var chosen = new Dictionary<uint, Destination>();
        var counts = new int[d.Length];
        for (int i = 0; i < 60_000; i++)
        {
            uint dst = (uint)r.Next(0, 20000) + 0x0A010000u;
            var f = Flow((uint)r.NextInt64(0, 1L << 32), (ushort)r.Next(1024, 65536), IpAddress.FromV4(dst));
            Destination x = s.Schedule(f, d)!;
            Assert.NotNull(x);
            if (chosen.TryGetValue(dst, out var prev)) Assert.Same(prev, x); // source does not matter
            else { chosen[dst] = x; counts[Array.IndexOf(d, x)]++; }
        }
        // ~20000 distinct destination addresses over 6 servers (42-43 buckets each).
        Assert.All(counts, c => Assert.InRange(c, 20000 / 6 * 0.8, 20000 / 6 * 1.2));
    }

    [Fact]
    public void Dh_unavailable_owner_gives_null()
    {
        var d = Dests(1, 1);
        var s = Updated(Create("dh"), d);
        var f = Flow(1);
        Destination x = s.Schedule(f, d)!;
        x.Alive = false;
        Assert.Null(s.Schedule(f, d));
    }
}
