using System.Runtime.CompilerServices;
using CsCheck;
using TunLB.Core.Connections;
using TunLB.Core.Flows;

namespace TunLB.Core.Tests.Connections;

public class ConnectionTableTests
{
    private static FlowKey Key(int n, byte proto = 6) =>
        new(IpAddress.FromV4(0x0A00_0000u | (uint)(n >> 16)), IpAddress.FromV4(0xC000_0264u), (ushort)n, 80, proto);

    /// <summary>Records removals; a struct, as the table requires, so tests pass it by ref.</summary>
    private struct Recorder : IConnectionObserver
    {
        public List<FlowKey>? Removed;
        public void OnRemoved(ref ConnEntry entry) => (Removed ??= []).Add(entry.Key);
    }

    [Fact]
    public void Entry_size_and_bytes_per_entry()
    {
        Assert.Equal(80, Unsafe.SizeOf<ConnEntry>());
        var t = new ConnectionTable(1_000_000, hashSeed: 1);
        Assert.Equal(1 << 21, t.BucketCount);
        Assert.Equal(80 + 4.0 * (1 << 21) / 1_000_000, t.BytesPerEntry, 6);
        Assert.True(t.BytesPerEntry <= 128);
        Assert.True(new ConnectionTable((1 << 16) + 1, hashSeed: 1).BytesPerEntry <= 96.0);
    }

    [Fact]
    public void Add_find_remove()
    {
        var t = new ConnectionTable(16, hashSeed: 7);
        var o = new Recorder();
        int a = t.Add(Key(1), 100, ref o);
        int b = t.Add(Key(2), 100, ref o);
        Assert.NotEqual(a, b);
        Assert.Equal(2, t.Count);
        Assert.Equal(a, t.Find(Key(1)));
        Assert.Equal(b, t.Find(Key(2)));
        Assert.Equal(-1, t.Find(Key(3)));
        Assert.Equal(-1, t.Find(Key(1, proto: 17)));

        ref var e = ref t[a];
        Assert.Equal(Key(1), e.Key);
        Assert.Equal(ConnState.None, e.State);
        Assert.Equal(-1, e.DestinationId);
        Assert.Equal(-1, e.TemplateIndex);
        Assert.Equal(100, e.ExpiresAtMs);

        Assert.True(t.Remove(a, ref o));
        Assert.False(t.Remove(a, ref o));
        Assert.Equal(-1, t.Find(Key(1)));
        Assert.Equal(b, t.Find(Key(2)));
        Assert.Equal(1, t.Count);
        Assert.Equal([Key(1)], o.Removed!);
    }

    [Fact]
    public void Colliding_keys_share_a_bucket_and_stay_distinct()
    {
        // Capacity 1 rounds to a single bucket: every key collides.
        var t = new ConnectionTable(1, FullTablePolicy.Refuse, hashSeed: 3);
        var o = new Recorder();
        Assert.Equal(0, t.Add(Key(1), 0, ref o));
        Assert.Equal(-1, t.Add(Key(2), 0, ref o));

        var t4 = new ConnectionTable(4, hashSeed: 3); // 4 buckets, 4 keys: some chains are longer than one
        for (int i = 0; i < 4; i++) t4.Add(Key(i), 0, ref o);
        for (int i = 0; i < 4; i++) Assert.Equal(Key(i), t4[t4.Find(Key(i))].Key);
        t4.Remove(t4.Find(Key(2)), ref o);
        for (int i = 0; i < 4; i++) Assert.Equal(i != 2, t4.Find(Key(i)) >= 0);
    }

    [Fact]
    public void Hash_overloads_agree_with_the_plain_ones_through_eviction()
    {
        // The engine hashes a key once and passes the hash to Find and Add; removal finds the bucket from the
        // stored hash. Interleave both forms over a small evicting table with long chains.
        var t = new ConnectionTable(64, FullTablePolicy.EvictOldest, hashSeed: 11);
        var o = new NullConnectionObserver();
        for (int n = 0; n < 1000; n++)
        {
            FlowKey k = Key(n * 7919);
            ulong h = t.Hash(k);
            Assert.Equal(t.Find(k), t.Find(k, h));
            int i = n % 2 == 0 ? t.Add(k, h, n, ref o) : t.Add(k, n, ref o);
            Assert.Equal(i, t.Find(k, h));
            Assert.Equal(k, t[i].Key);
        }
        Assert.Equal(64, t.Count);
        for (int n = 0; n < 1000; n++)
            Assert.Equal(n >= 1000 - 64, t.Find(Key(n * 7919)) >= 0);
        for (int n = 1000 - 64; n < 1000; n++)
            Assert.True(t.Remove(t.Find(Key(n * 7919)), ref o));
        Assert.Equal(0, t.Count);
    }

    [Fact]
    public void Expire_uses_injected_time_and_budget()
    {
        var t = new ConnectionTable(8, hashSeed: 5);
        var o = new Recorder();
        for (int i = 0; i < 8; i++) t[t.Add(Key(i), 0, ref o)].ExpiresAtMs = 1000 + i * 100; // expire at 1000..1700

        Assert.Equal(0, t.Expire(999, 8, ref o));
        Assert.Equal(8, t.Count);
        Assert.Equal(3, t.Expire(1200, 8, ref o));        // 1000, 1100, 1200
        Assert.Equal(5, t.Count);
        Assert.True(t.IsExpired(t.Find(Key(3)), 1300));
        Assert.False(t.IsExpired(t.Find(Key(3)), 1299));

        // A budget of 2 slots per call: the cursor moves on, so four calls cover the table.
        int removed = 0;
        for (int call = 0; call < 4; call++)
        {
            int r = t.Expire(10_000, 2, ref o);
            Assert.True(r <= 2);
            removed += r;
        }
        Assert.Equal(5, removed);
        Assert.Equal(0, t.Count);
        Assert.Equal(8, o.Removed!.Count);
    }

    [Fact]
    public void Full_table_refuse_counts_refusals()
    {
        var t = new ConnectionTable(3, FullTablePolicy.Refuse, hashSeed: 9);
        var o = new Recorder();
        for (int i = 0; i < 3; i++) Assert.True(t.Add(Key(i), 0, ref o) >= 0);
        Assert.Equal(-1, t.Add(Key(3), 0, ref o));
        Assert.Equal(-1, t.Add(Key(4), 0, ref o));
        Assert.Equal(2, t.Refusals);
        Assert.Equal(0, t.Evictions);
        Assert.Equal(3, t.Count);
        Assert.Null(o.Removed);
        for (int i = 0; i < 3; i++) Assert.True(t.Find(Key(i)) >= 0);
    }

    [Fact]
    public void Full_table_evicts_least_recently_touched()
    {
        var t = new ConnectionTable(3, FullTablePolicy.EvictOldest, hashSeed: 11);
        var o = new Recorder();
        int a = t.Add(Key(1), 0, ref o);
        t.Add(Key(2), 0, ref o);
        t.Add(Key(3), 0, ref o);
        t.Touch(a);                                        // order now 2, 3, 1

        Assert.True(t.Add(Key(4), 0, ref o) >= 0);
        Assert.Equal([Key(2)], o.Removed!);
        Assert.Equal(-1, t.Find(Key(2)));
        Assert.Equal(1, t.Evictions);
        Assert.Equal(0, t.Refusals);

        Assert.True(t.Add(Key(5), 0, ref o) >= 0);         // next oldest: 3
        Assert.Equal([Key(2), Key(3)], o.Removed!);
        Assert.Equal(3, t.Count);
        Assert.Equal([Key(1), Key(4), Key(5)], t.LiveIndicesOldestFirst().Select(i => t[i].Key).ToArray());
    }

    [Fact]
    public void Template_controlling_connections_is_not_expired_evicted_or_removed()
    {
        var t = new ConnectionTable(3, FullTablePolicy.EvictOldest, hashSeed: 13);
        var o = new Recorder();
        int tpl = t.Add(Key(100, proto: 0), 0, ref o);
        t[tpl].State = ConnState.Template;
        int c = t.AddControlled(Key(1), tpl, 0, ref o);
        Assert.Equal(tpl, t[c].TemplateIndex);
        Assert.Equal(1, t[tpl].ControlledCount);
        t[c].ExpiresAtMs = 500;

        Assert.False(t.Remove(tpl, ref o));
        Assert.False(t.IsExpired(tpl, 1_000));
        Assert.Equal(1, t.Expire(1_000, 3, ref o));        // only the connection goes
        Assert.Equal(0, t[tpl].ControlledCount);
        Assert.True(t.IsExpired(tpl, 1_000));
        Assert.Equal(1, t.Expire(1_000, 3, ref o));
        Assert.Equal(0, t.Count);

        // Eviction skips a controlling template even when it is the oldest entry.
        tpl = t.Add(Key(100, proto: 0), 0, ref o);
        t.AddControlled(Key(1), tpl, 0, ref o);
        t.Add(Key(2), 0, ref o);
        o.Removed!.Clear();
        Assert.True(t.Add(Key(3), 0, ref o) >= 0);
        Assert.Equal([Key(1)], o.Removed);                  // the controlled connection, not the template
        Assert.Equal(0, t[tpl].ControlledCount);
    }

    [Fact]
    public void AddControlled_pins_its_template_against_eviction()
    {
        var t = new ConnectionTable(2, FullTablePolicy.EvictOldest, hashSeed: 15);
        var o = new Recorder();
        int tpl = t.Add(Key(100, proto: 0), 0, ref o);     // oldest and uncontrolled
        t.Add(Key(1), 0, ref o);
        int c = t.AddControlled(Key(2), tpl, 0, ref o);
        Assert.True(c >= 0);
        Assert.Equal([Key(1)], o.Removed!);
        Assert.Equal(tpl, t.Find(Key(100, proto: 0)));
        Assert.Equal(1, t[tpl].ControlledCount);
    }

    [Fact]
    public void Refused_AddControlled_releases_the_template()
    {
        var t = new ConnectionTable(1, FullTablePolicy.Refuse, hashSeed: 17);
        var o = new Recorder();
        int tpl = t.Add(Key(100, proto: 0), 0, ref o);
        Assert.Equal(-1, t.AddControlled(Key(1), tpl, 0, ref o));
        Assert.Equal(0, t[tpl].ControlledCount);
    }

    [Fact]
    public void Operations_after_construction_do_not_allocate()
    {
        var t = new ConnectionTable(4096, FullTablePolicy.EvictOldest, hashSeed: 19);
        var o = new NullConnectionObserver();
        var keys = new FlowKey[8192];
        for (int i = 0; i < keys.Length; i++) keys[i] = Key(i);
        void Run()
        {
            for (int i = 0; i < keys.Length; i++)
            {
                int idx = t.Find(keys[i]);
                if (idx < 0) idx = t.Add(keys[i], i, ref o);
                t.Touch(idx);
                if ((i & 3) == 0) t.Remove(idx, ref o);
            }
            t.Expire(long.MaxValue, 1000, ref o);
        }
        Run();
        long before = GC.GetAllocatedBytesForCurrentThread();
        Run();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void Random_operations_match_a_dictionary_model_100k()
    {
        const int capacity = 2048;
        var t = new ConnectionTable(capacity, FullTablePolicy.Refuse, hashSeed: 21);
        var model = new Dictionary<FlowKey, long>();
        var o = new NullConnectionObserver();
        var rng = new Random(12345);
        for (int step = 0; step < 100_000; step++)
        {
            var k = Key(rng.Next(4096), rng.Next(8) == 0 ? (byte)17 : (byte)6);
            int idx = t.Find(k);
            Assert.Equal(model.ContainsKey(k), idx >= 0);
            if (rng.Next(2) == 0)
            {
                if (idx < 0)
                {
                    idx = t.Add(k, step, ref o);
                    Assert.Equal(model.Count < capacity, idx >= 0);
                    if (idx >= 0) model[k] = step;
                }
                else
                {
                    Assert.Equal(model[k], t[idx].ExpiresAtMs);
                }
            }
            else if (idx >= 0)
            {
                Assert.True(t.Remove(idx, ref o));
                model.Remove(k);
            }
            Assert.Equal(model.Count, t.Count);
        }
        var live = t.EnumerateEntries().ToDictionary(e => e.Key, e => e.ExpiresAtMs);
        Assert.Equal(model.OrderBy(p => p.Key.GetHashCode()), live.OrderBy(p => p.Key.GetHashCode()));
        Assert.Equal(model.Count, t.LiveIndicesOldestFirst().Count());
    }

    [Fact]
    public void Property_evicting_table_holds_the_most_recent_keys()
    {
        // With EvictOldest and only adds, the table holds exactly the last `capacity` distinct keys added.
        Gen.Int[0, 300].Array[1, 400].Select(Gen.Int[1, 64]).Sample((ops, capacity) =>
        {
            var t = new ConnectionTable(capacity, FullTablePolicy.EvictOldest, hashSeed: 23);
            var o = new NullConnectionObserver();
            var order = new List<int>();
            foreach (int n in ops)
            {
                if (t.Find(Key(n)) >= 0) continue;
                t.Add(Key(n), 0, ref o);
                order.Add(n);
            }
            var expected = order.Skip(Math.Max(0, order.Count - capacity)).ToHashSet();
            if (t.Count != expected.Count) return false;
            foreach (int n in expected) if (t.Find(Key(n)) < 0) return false;
            return t.Evictions == order.Count - expected.Count;
        }, iter: 200);
    }
}
