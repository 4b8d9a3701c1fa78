using System.Diagnostics;
using TunLB.Linux;

namespace TunLB.Director.Workers;

/// <summary>
/// Adaptive busy-polling for one worker (<c>[director] busy_poll_us</c>): after a batch that carried packets, the worker
/// asks its receiver without waiting for up to a window of microseconds before it blocks in poll(2), so under steady
/// traffic the next packet is picked up without a sleep, a wake-up and a context switch.
/// </summary>
/// <remarks>
/// <para>Off when idle: the worker spins only right after packets, so with no traffic it sleeps in poll as before.
/// Adaptive: a spin that finds a packet doubles the window (up to the configured one), a spin that finds nothing halves
/// it (down to a sixteenth), so sparse traffic costs little per packet. Bounded: spinning may take at most
/// <see cref="MaxShare"/> of each <see cref="PeriodMs"/>; past that the worker only blocks until the next period.</para>
/// <para>One thread; no allocation. The clock is the vDSO's (Stopwatch), read every <see cref="ClockEvery"/> tries.</para>
/// </remarks>
public sealed class BusyPoller
{
    /// <summary>Accounting period for <see cref="MaxShare"/>.</summary>
    public const int PeriodMs = 100;
    /// <summary>At most half of a core in spinning, whatever the traffic.</summary>
    public const double MaxShare = 0.5;
    private const int ClockEvery = 8;

    private readonly long _maxTicks, _minTicks, _periodTicks, _budgetTicks;
    private long _window, _periodStart, _spentInPeriod;

    // Counters (single writer).
    public long Spins;
    public long Hits;
    public long SpunTicks;

    /// <param name="microseconds">The longest spin, 0..1000; 0 disables.</param>
    public BusyPoller(int microseconds)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(microseconds);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(microseconds, 1000);
        _maxTicks = microseconds * Stopwatch.Frequency / 1_000_000;
        _minTicks = Math.Max(1, _maxTicks / 16);
        _window = _maxTicks;
        _periodTicks = PeriodMs * Stopwatch.Frequency / 1000;
        _budgetTicks = (long)(_periodTicks * MaxShare);
    }

    public bool Enabled => _maxTicks > 0;

    /// <summary>The current window in microseconds (diagnostics and tests).</summary>
    public double WindowMicroseconds => _window * 1e6 / Stopwatch.Frequency;

    /// <summary>
    /// Calls <paramref name="port"/>.Receive(buffer, 0) until it returns something other than 0 or the window is over.
    /// Returns what it returned last (0: nothing came; the caller blocks). Call only right after a batch with packets.
    /// </summary>
    public int Spin(IPacketReceiver port, Span<byte> buffer)
    {
        if (_maxTicks == 0) return 0;
        long start = Stopwatch.GetTimestamp();
        if (start - _periodStart >= _periodTicks) { _periodStart = start; _spentInPeriod = 0; }
        if (_spentInPeriod >= _budgetTicks) return 0;
        long deadline = start + Math.Min(_window, _budgetTicks - _spentInPeriod);
        Spins++;
        int n, tries = 0;
        long now = start;
        while ((n = port.Receive(buffer, 0)) == 0)
        {
            if (++tries % ClockEvery == 0 && (now = Stopwatch.GetTimestamp()) >= deadline) break;
            Thread.SpinWait(1); // a pause: lets the sibling hyperthread (or the kernel's softirq on it) run
        }
        if (n == 0 || tries >= ClockEvery) now = Stopwatch.GetTimestamp();
        long spent = now - start;
        _spentInPeriod += spent;
        SpunTicks += spent;
        if (n > 0) { Hits++; _window = Math.Min(_maxTicks, _window * 2); }
        else if (n == 0) _window = Math.Max(_minTicks, _window / 2);
        return n;
    }
}
