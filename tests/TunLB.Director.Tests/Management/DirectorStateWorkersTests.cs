using TunLB.Control.Api;
using TunLB.Core.Packets;
using TunLB.Director.Api;
using TunLB.Director.Management;
using static TunLB.Director.Tests.Fixtures;

namespace TunLB.Director.Tests.Management;

/// <summary>DirectorState with workers = 2: one engine per worker, control work on every worker, sums everywhere.</summary>
public class DirectorStateWorkersTests
{
    private static readonly string Two = Basic.Replace("conn_max = 1000", "conn_max = 1001\nworkers = 2\nfrag_max = 100");

    private static (DropReason, string?) SendOn(DirectorState s, int worker, byte[] packet)
    {
        var output = new byte[packet.Length + 64];
        var v = s.Engines[worker].ProcessOne(packet, output, 1000, out _, out var hop);
        return (v, v == DropReason.None ? hop.ToString() : null);
    }

    /// <summary>Runs one drainer thread per worker (as DirectorRuntime does) around <paramref name="body"/>.</summary>
    private static void WithWorkers(DirectorState s, Action<int[]> body)
    {
        using var stop = new CancellationTokenSource();
        var ids = new int[s.Engines.Length];
        var threads = Enumerable.Range(0, s.Engines.Length).Select(w => new Thread(() =>
        {
            ids[w] = Environment.CurrentManagedThreadId;
            while (!stop.IsCancellationRequested) { if (s.Commands.HasPending(w)) s.Commands.RunPending(w); Thread.Sleep(1); }
        })).ToArray();
        foreach (var t in threads) t.Start();
        for (int w = 0; w < threads.Length; w++) s.Commands.SetAttached(w, true);
        try { body(ids); }
        finally
        {
            s.Commands.SetAllAttached(false);
            stop.Cancel();
            foreach (var t in threads) t.Join();
        }
    }

    [Fact]
    public void Each_worker_has_its_own_engine_with_a_share_of_the_tables()
    {
        var s = NewState(Two);
        Assert.Equal(2, s.Engines.Length);
        Assert.Same(s.Engines[0], s.Engine);
        Assert.Equal([0, 1], s.Engines.Select(e => e.WorkerIndex));
        Assert.All(s.Engines, e => Assert.Equal(501, e.Connections.Capacity));
        Assert.All(s.Engines, e => Assert.Equal(2, e.Services.Count)); // every engine got the publish
        var info = ApiOf(s).Info();
        Assert.Equal(1002, info.ConnectionTableSize);
        Assert.Equal(2, info.Workers!.Count);
    }

    [Fact]
    public void Listing_zeroing_timeouts_and_stats_cover_all_workers()
    {
        var s = NewState(Two);
        for (ushort p = 40000; p < 40006; p++) Assert.Equal(DropReason.None, SendOn(s, 0, Syn(p)).Item1);
        for (ushort p = 41000; p < 41004; p++) Assert.Equal(DropReason.None, SendOn(s, 1, Syn(p)).Item1);
        s.Engines[1].Drops[(int)DropReason.NoService] = 3;
        s.Engines[0].Drops[(int)DropReason.NoService] = 2;

        WithWorkers(s, ids =>
        {
            var ran = s.OnWorkers(_ => Environment.CurrentManagedThreadId);
            Assert.Equal(ids, ran); // each on its own worker thread

            var conns = ApiOf(s).ListConnections();
            Assert.Equal(10, conns.Count);
            Assert.Equal(6, conns.Count(c => c.ClientPort < 41000));
            Assert.Equal(4, ApiOf(s).ListConnections(limit: 4).Count);

            var info = ApiOf(s).Info();
            Assert.Equal(10, info.Connections);
            Assert.Equal([6, 4], info.Workers!.Select(w => w.Connections));

            var stats = ApiOf(s).Stats();
            Assert.Equal(10, stats.Total.Conns);
            Assert.Equal(10, stats.Total.InPkts);
            Assert.Equal(5, stats.Drops["no_service"]);

            var metrics = Metrics.Render(s);
            Assert.Contains("tunlb_connection_table_entries 10\n", metrics);
            Assert.Contains("tunlb_dropped_packets_total{reason=\"no_service\"} 5\n", metrics);
            Assert.Contains("tunlb_worker_connection_table_entries{worker=\"1\"} 4\n", metrics);

            ApiOf(s).SetTimeouts(new TimeoutsDto(100, 0, 7));
            Assert.All(s.Engines, e => Assert.Equal(100_000, e.Timeouts.TcpMs));

            ApiOf(s).Zero(null);
            var svc = ApiOf(s).GetService("tcp", Vip, "80");
            Assert.Equal((0L, 0L, 0L), (svc.Stats.Conns, svc.Stats.InPkts, svc.Stats.InBytes));
            Assert.Equal(10, svc.Reals.Sum(r => r.InactiveConns)); // gauges stay
        });
    }

    [Fact]
    public void Pinned_flows_reach_every_worker()
    {
        var s = NewState(Two);
        var pins = new TunLB.Core.DataPath.PinnedFlows(61000, 10);
        s.SetPinned(pins);
        Assert.All(s.Engines, e => Assert.Same(pins, e.Pinned));
    }

    [Fact]
    public void A_stuck_worker_gives_503_naming_it()
    {
        var s = new DirectorState(Parse(Two), new DirectorStateOptions { WorkerTimeout = TimeSpan.FromMilliseconds(100) });
        s.Commands.SetAttached(1, true); // worker 0 is not attached (runs inline); worker 1 never drains
        var e = Assert.Throws<ApiException>(() => ApiOf(s).ListConnections());
        Assert.Equal(503, e.Status);
        Assert.Contains("worker 1", e.Message);
    }
}
