namespace TunLB.Core.DataPath;

/// <summary>
/// A token bucket with the clock passed in: <see cref="RatePerSecond"/> tokens a second, at most
/// <see cref="Burst"/> saved up. Used to rate-limit the ICMP messages the director generates. Single-threaded
/// (the data-path worker); allocates nothing.
/// </summary>
public sealed class TokenBucket
{
    private const long Scale = 1000;   // tokens are counted in thousandths, so a millisecond adds rate/1000 exactly
    private long _milliTokens;
    private long _lastMs;
    private bool _started;

    public TokenBucket(int ratePerSecond, int burst)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(ratePerSecond);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(burst);
        RatePerSecond = ratePerSecond;
        Burst = burst;
        _milliTokens = burst * Scale;
    }

    public int RatePerSecond { get; }
    public int Burst { get; }

    /// <summary>Takes one token if there is one at time <paramref name="nowMs"/>.</summary>
    public bool TryTake(long nowMs)
    {
        if (!_started) { _started = true; _lastMs = nowMs; }
        long elapsed = nowMs - _lastMs;
        if (elapsed > 0)
        {
            long cap = Burst * Scale;
            // rate tokens/s = rate milli-tokens/ms; clamp the product before it can overflow.
            long add = elapsed >= cap ? cap : elapsed * RatePerSecond;
            _milliTokens = Math.Min(cap, _milliTokens + add);
            _lastMs = nowMs;
        }
        if (_milliTokens < Scale) return false;
        _milliTokens -= Scale;
        return true;
    }
}
