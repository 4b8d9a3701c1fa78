using static TunLB.Director.Tests.Fixtures;

namespace TunLB.Director.Tests.Management;

/// <summary>SIGHUP (signal thread) and POST /api/v1/reload (thread pool) reloads run one at a time, file read to last change.</summary>
public sealed class ReloadOrderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tunlb-reload-order-").FullName;
    private string PathOf => Path.Combine(_dir, "director.toml");

    public void Dispose()
    {
        try { Directory.Delete(_dir, true); } catch { }
    }

    [Fact]
    public async Task A_second_reload_waits_for_the_first_and_reads_the_file_after_it()
    {
        File.WriteAllText(PathOf, Basic);
        var s = NewState(Basic, PathOf);
        int inside = 0, most = 0, starts = 0;
        using var firstIn = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        s.ReloadStarting = () =>
        {
            int n = Interlocked.Increment(ref inside);
            lock (firstIn) most = Math.Max(most, n);
            if (Interlocked.Increment(ref starts) == 1)
            {
                firstIn.Set();
                Assert.True(release.Wait(10_000));
            }
        };
        s.ReloadFinished = () => Interlocked.Decrement(ref inside);

        var first = Task.Run(s.Reload);                     // held in ReloadStarting, before it reads the file
        Assert.True(firstIn.Wait(10_000));
        var second = Task.Run(s.Reload);
        // The second has had time to start; it must not have (a sleep only makes a wrong order likelier to show).
        await Task.Delay(300);
        Assert.Equal(1, Volatile.Read(ref starts));
        File.WriteAllText(PathOf, Basic.Replace("scheduler = \"rr\"", "scheduler = \"wrr\""));
        release.Set();
        var (r1, r2) = (await first, await second);

        Assert.Equal(1, most);
        Assert.True(r1.Ok && r2.Ok, string.Join("; ", r1.Errors.Concat(r2.Errors)));
        // Both read the file after it changed: wrr is in force.
        Assert.Equal("wrr", s.View.Services.Single(v => v.Service.Key.Port == 80).Service.Scheduler.Name);
    }
}
