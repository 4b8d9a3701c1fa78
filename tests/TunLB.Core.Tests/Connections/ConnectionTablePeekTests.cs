using System.Diagnostics;
using TunLB.Core.Connections;
using TunLB.Core.Flows;

namespace TunLB.Core.Tests.Connections;

/// <summary><see cref="ConnectionTable.TryPeek"/>: the read-only lookup other workers make into a table they do not own.</summary>
public class ConnectionTablePeekTests
{
    private static FlowKey Key(int n, byte proto = 17) =>
        new(IpAddress.FromV4(0xC633_6400u | (uint)(n >> 16)), IpAddress.FromV4(0xCB00_710Au), (ushort)n, 53, proto);

    private struct NoObserver : IConnectionObserver
    {
        public void OnRemoved(ref ConnEntry entry) { }
    }

    [Fact]
    public void Peek_finds_live_entries_and_ignores_missing_expired_and_templates()
    {
        var t = new ConnectionTable(64, hashSeed: 3);
        var o = new NoObserver();
        int a = t.Add(Key(1), 0, ref o);
        t[a].DestinationId = 7;
        t[a].ExpiresAtMs = 1000;
        int tpl = t.Add(Key(2, proto: 0), 0, ref o);
        t[tpl].DestinationId = 8;
        t[tpl].State = ConnState.Template;
        t[tpl].ExpiresAtMs = 1000;

        Assert.True(t.TryPeek(Key(1), 999, out int d));
        Assert.Equal(7, d);
        Assert.False(t.TryPeek(Key(1), 1000, out d));   // expired
        Assert.Equal(-1, d);
        Assert.False(t.TryPeek(Key(3), 0, out _));      // absent
        Assert.False(t.TryPeek(Key(2, proto: 0), 0, out _)); // templates are never adopted
        t.Remove(a, ref o);
        Assert.False(t.TryPeek(Key(1), 0, out _));
    }

    [Fact]
    public void Peek_of_an_unbound_entry_misses()
    {
        var t = new ConnectionTable(8, hashSeed: 3);
        var o = new NoObserver();
        int a = t.Add(Key(1), 0, ref o);
        t[a].ExpiresAtMs = 1000; // DestinationId still -1: added but not yet bound
        Assert.False(t.TryPeek(Key(1), 0, out _));
    }

    /// <summary>
    /// A writer thread churns a small, full table (adds with eviction, removals, expiry sweeps: chains relinked and
    /// slots reused all the time) while a reader peeks keys that come and go. The reader never throws, never hangs,
    /// and every id it returns is one the writer stored.
    /// </summary>
    [Fact]
    public void Peek_under_concurrent_mutation_never_throws_or_hangs()
    {
        const int Keys = 4096;
        var t = new ConnectionTable(512, FullTablePolicy.EvictOldest, hashSeed: 11); // 8 keys per slot: constant eviction
        using var stop = new CancellationTokenSource();
        long writes = 0;
        Exception? writerError = null;
        var writer = new Thread(() =>
        {
            try
            {
                var o = new NoObserver();
                var rnd = new Random(1);
                long now = 0;
                while (!stop.IsCancellationRequested)
                {
                    int n = rnd.Next(Keys);
                    var k = Key(n);
                    int i = t.Find(k);
                    if (i >= 0) t.Remove(i, ref o);
                    else
                    {
                        i = t.Add(k, now, ref o);
                        if (i >= 0)
                        {
                            t[i].DestinationId = n % 100;
                            t[i].ExpiresAtMs = now + rnd.Next(1, 50);
                        }
                    }
                    if ((++writes & 255) == 0) t.Expire(++now, 64, ref o);
                }
            }
            catch (Exception e) { writerError = e; }
        }) { IsBackground = true };
        writer.Start();

        long peeks = 0, hits = 0;
        var sw = Stopwatch.StartNew();
        var rnd = new Random(2);
        while (sw.ElapsedMilliseconds < 1500)
        {
            var slow = Stopwatch.StartNew();
            // now = 0: anything stored counts as live, so hits are frequent.
            if (t.TryPeek(Key(rnd.Next(Keys)), 0, out int d))
            {
                hits++;
                Assert.InRange(d, 0, 99);
            }
            Assert.True(slow.ElapsedMilliseconds < 1000, "a single peek took over a second");
            peeks++;
        }
        stop.Cancel();
        Assert.True(writer.Join(5000), "writer did not stop");
        Assert.Null(writerError);
        Assert.True(peeks > 1000, $"only {peeks} peeks");
        Assert.True(hits > 0, "the reader never found an entry");
        Assert.True(Interlocked.Read(ref writes) > 1000, $"only {writes} writes");
    }
}
