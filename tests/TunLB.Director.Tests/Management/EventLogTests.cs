using TunLB.Director.Management;

namespace TunLB.Director.Tests.Management;

public sealed class EventLogTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void IdsAreMonotonicAndSinceReturnsOnlyNewerOnes()
    {
        var log = new EventLog(10);
        for (int i = 0; i < 5; i++) log.Record(T0.AddSeconds(i), EventKinds.Health, "203.0.113.10:80/tcp", "192.0.2.11:80", $"e{i}");
        var (all, last) = log.Since(0);
        Assert.Equal([1L, 2, 3, 4, 5], all.Select(e => e.Id));
        Assert.Equal(5, last);
        var (newer, last2) = log.Since(3);
        Assert.Equal(["e3", "e4"], newer.Select(e => e.Message));
        Assert.Equal(5, last2);
        var (none, last3) = log.Since(5);
        Assert.Empty(none);
        Assert.Equal(5, last3);
        Assert.Equal(6, log.Next);
    }

    [Fact]
    public void RingKeepsTheLastCapacityEventsAndIdsGoOn()
    {
        var log = new EventLog(4);
        for (int i = 1; i <= 10; i++) log.Record(T0, EventKinds.Weight, null, null, $"e{i}");
        var (kept, last) = log.Since(0);
        Assert.Equal([7L, 8, 9, 10], kept.Select(e => e.Id));
        Assert.Equal(["e7", "e8", "e9", "e10"], kept.Select(e => e.Message));
        Assert.Equal(10, last);
        Assert.Equal([9L, 10], log.Since(8).Events.Select(e => e.Id));
        Assert.Equal([7L, 8], log.Since(0, max: 2).Events.Select(e => e.Id));
    }

    [Fact]
    public void SinceAboveTheLastIdAnswersTheLastId()
    {
        // A client that saw ids of a director that has restarted since: "next" brings it back to the new numbering.
        var log = new EventLog(4);
        log.Record(T0, EventKinds.Director, null, null, "started");
        var (none, last) = log.Since(500);
        Assert.Empty(none);
        Assert.Equal(1, last);
    }

    [Fact]
    public async Task WaitCompletesWhenANewerEventIsRecorded()
    {
        var log = new EventLog(4);
        log.Record(T0, EventKinds.Director, null, null, "started");
        Assert.True(log.WaitAsync(0, CancellationToken.None).IsCompleted);
        var wait = log.WaitAsync(1, CancellationToken.None);
        Assert.False(wait.IsCompleted);
        log.Record(T0, EventKinds.Reload, null, null, "reloaded");
        await wait.WaitAsync(TimeSpan.FromSeconds(5));
        using var cts = new CancellationTokenSource();
        var cancelled = log.WaitAsync(2, cts.Token);
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
    }
}
