using System.Runtime.CompilerServices;

namespace TunLB.Core.Connections;

/// <summary>
/// One worker's SYN flood detector: counts new TCP connections per one-second window and engages as soon as a window
/// holds more than <see cref="SynFloodOptions.RatePerSecond"/>; it disengages at the end of the first window at or below
/// the rate. Pure: the caller passes the time. Single writer (the worker); readers on other threads see the gauges.
/// </summary>
public sealed class SynFloodGuard
{
    private const long WindowMs = 1000;

    private readonly int _rate;
    private long _windowStart = long.MinValue / 2; // far in the past, without overflow in nowMs - _windowStart
    private int _windowCount;
    private volatile bool _active;
    private long _lastActiveMs = long.MinValue;
    private long _engagements;

    public SynFloodGuard(SynFloodOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegative(options.RatePerSecond);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.ShortSynRecvMs);
        Options = options;
        _rate = options.RatePerSecond;
    }

    public SynFloodOptions Options { get; }

    /// <summary>True while the defence is engaged.</summary>
    public bool Active => _active;

    /// <summary>How many times the defence engaged.</summary>
    public long Engagements => Interlocked.Read(ref _engagements);

    /// <summary>New connections counted in the current window.</summary>
    public int WindowCount => _windowCount;

    /// <summary>Counts one new connection at <paramref name="nowMs"/>; returns whether the defence is engaged.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool OnNewConnection(long nowMs)
    {
        if (_rate == 0) return false;
        if (nowMs - _windowStart >= WindowMs) Roll(nowMs);
        if (++_windowCount > _rate && !_active) Engage();
        if (_active) _lastActiveMs = nowMs;
        return _active;
    }

    /// <summary>Ends the window if its second is over (the worker calls this between packets too, so an idle flood ends).</summary>
    public void Tick(long nowMs)
    {
        if (_rate != 0 && nowMs - _windowStart >= WindowMs) Roll(nowMs);
    }

    /// <summary>True while engaged or within <paramref name="graceMs"/> after it last was.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool ActiveWithin(long nowMs, long graceMs) => _active || (_lastActiveMs != long.MinValue && nowMs - _lastActiveMs <= graceMs);

    private void Roll(long nowMs)
    {
        // A window that ended more than a window ago saw nothing after it: the rate is 0 now.
        bool over = _windowCount > _rate && nowMs - _windowStart < 2 * WindowMs;
        if (_active && !over) _lastActiveMs = Math.Min(nowMs, _windowStart + WindowMs);
        _active = over;
        _windowStart = nowMs;
        _windowCount = 0;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Engage()
    {
        _active = true;
        Interlocked.Increment(ref _engagements);
    }
}
