using TunLB.Core.Connections;
using TunLB.Core.Sync;

namespace TunLB.Core.Tests.Sync;

public class SyncEventQueueTests
{
    [Fact]
    public void Records_come_out_in_order_and_a_full_ring_drops_and_counts()
    {
        var q = new SyncEventQueue(5);
        Assert.Equal(8, q.Capacity);
        for (ushort i = 0; i < 10; i++) Assert.Equal(i < 8, q.TryPush(SyncCodecTests.V4((ushort)(1000 + i))));
        Assert.Equal(2, q.Dropped);
        Assert.Equal(8, q.Count);
        for (ushort i = 0; i < 8; i++)
        {
            Assert.True(q.TryPop(out var r));
            Assert.Equal(1000 + i, r.ClientPort);
        }
        Assert.False(q.TryPop(out _));
        Assert.True(q.TryPush(SyncCodecTests.V4(7)));
        Assert.Equal(1, q.Count);
    }

    [Fact]
    public void One_producer_and_one_consumer_on_two_threads_lose_and_reorder_nothing_that_was_accepted()
    {
        var q = new SyncEventQueue(64);
        const int N = 200_000;
        var accepted = new List<int>();
        var producer = new Thread(() =>
        {
            for (int i = 0; i < N; i++)
                if (q.TryPush(SyncCodecTests.V4((ushort)i, ConnState.Established) with { TimeoutSeconds = (uint)i })) accepted.Add(i);
        });
        var got = new List<int>();
        producer.Start();
        while (producer.IsAlive || q.Count > 0)
            while (q.TryPop(out var r)) got.Add((int)r.TimeoutSeconds);
        producer.Join();
        while (q.TryPop(out var r)) got.Add((int)r.TimeoutSeconds);
        Assert.Equal(accepted, got);
        Assert.Equal(N - accepted.Count, q.Dropped);
    }
}
