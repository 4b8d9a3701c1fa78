using TunLB.Control.Api;
using TunLB.Core.Packets;
using TunLB.Director.Api;
using TunLB.Director.Management;
using static TunLB.Director.Tests.Fixtures;

namespace TunLB.Director.Tests.Management;

/// <summary>
/// A real server added while a worker forwards must be known to the data path (its destination id in the published
/// snapshot) before any scheduler can pick it. Otherwise a flow's first packet goes to the new real and its next
/// packet finds no destination for the entry's id and is dropped as DestinationGone.
/// </summary>
public sealed class PublishRaceTests
{
    [Fact]
    public void FlowsScheduledToARealBeingAddedAreNeverDroppedAsDestinationGone()
    {
        var s = NewState();
        using var stop = new CancellationTokenSource();
        long gone = 0, forwarded = 0;
        var worker = new Thread(() =>
        {
            ushort port = 1024;
            while (!stop.IsCancellationRequested)
            {
                port = (ushort)(port == ushort.MaxValue ? 1024 : port + 1);
                if (Send(s, Syn(port)).Verdict != DropReason.None) continue;
                var (v, _) = Send(s, Ack(port));
                if (v == DropReason.DestinationGone) Interlocked.Increment(ref gone);
                else if (v == DropReason.None) Interlocked.Increment(ref forwarded);
            }
        }) { IsBackground = true };
        worker.Start();
        try
        {
            // rr picks each new real within a few flows, so every add opens the window many times over.
            for (int i = 0; i < 1000 && Interlocked.Read(ref gone) == 0; i++)
                ApiOf(s).AddReal("tcp", Vip, "80", new RealSpec($"198.18.{i / 200}.{1 + i % 200}"));
        }
        finally
        {
            stop.Cancel();
            worker.Join();
        }
        Assert.True(forwarded > 1000, $"the worker forwarded only {forwarded} flows");
        Assert.Equal(0, gone);
    }

    /// <summary>
    /// Deterministic form: the health clock is read while a real is being added, so a clock that forwards a new flow
    /// (SYN, then ACK) each time it is read plays a worker that runs at exactly those moments.
    /// </summary>
    [Fact]
    public void AWorkerRunningAtAnyMomentOfAddRealNeverLosesTheFlowItScheduled()
    {
        var clock = new WorkerPlayingClock();
        var s = NewState(Basic, time: clock);
        ushort port = 2000;
        var verdicts = new List<(string? Syn, DropReason Ack)>();
        clock.OnRead = () =>
        {
            // rr over n reals: n flows reach every real, the new one included once the scheduler has it.
            for (int i = 0; i < 4; i++, port++)
            {
                var (sv, real) = Send(s, Syn(port));
                if (sv == DropReason.None) verdicts.Add((real, Send(s, Ack(port)).Verdict));
            }
        };
        ApiOf(s).AddReal("tcp", Vip, "80", new RealSpec("192.0.2.13"));
        clock.OnRead = null;
        Assert.NotEmpty(verdicts);
        Assert.All(verdicts, v => Assert.NotEqual(DropReason.DestinationGone, v.Ack));
        Assert.All(verdicts, v => Assert.Equal(DropReason.None, v.Ack));
    }

    private sealed class WorkerPlayingClock : TimeProvider
    {
        public Action? OnRead;
        public override DateTimeOffset GetUtcNow()
        {
            OnRead?.Invoke();
            return new DateTimeOffset(2026, 12, 3, 0, 0, 0, TimeSpan.Zero);
        }
    }
}
