namespace TunLB.Director.Management;

/// <summary>
/// The IPVS rate estimator (net/netfilter/ipvs/ip_vs_est.c): every 2 seconds the control thread reads the
/// cumulative counters, turns the deltas into per-second rates, and smooths them with weight 1/4
/// (avg += (rate - avg) / 4). Nothing runs on the data path: the worker only increments its counters.
/// </summary>
public sealed class RateEstimator
{
    /// <summary>IPVS samples every 2 seconds.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);

    private long _conns, _packets, _bytes;
    private bool _primed;

    public double Cps { get; private set; }
    public double InPps { get; private set; }
    public double InBps { get; private set; }

    /// <summary>Takes one sample of the cumulative counters, <paramref name="seconds"/> after the previous one.</summary>
    public void Sample(long conns, long packets, long bytes, double seconds)
    {
        if (!_primed || seconds <= 0)
        {
            // First sample (a new service, or one just created by a reload): the counters so far are history, not rate.
            (_conns, _packets, _bytes, _primed) = (conns, packets, bytes, true);
            return;
        }
        Cps += (Delta(conns, ref _conns) / seconds - Cps) / 4;
        InPps += (Delta(packets, ref _packets) / seconds - InPps) / 4;
        InBps += (Delta(bytes, ref _bytes) / seconds - InBps) / 4;
    }

    // A counter below its last value was zeroed (or lost a member); count the new value as the delta.
    private static double Delta(long now, ref long last)
    {
        long d = now >= last ? now - last : now;
        last = now;
        return d;
    }

    /// <summary>Forgets rates and history, as ipvsadm -Z does (ip_vs_zero_estimator).</summary>
    public void Reset()
    {
        _conns = _packets = _bytes = 0;
        _primed = true;
        Cps = InPps = InBps = 0;
    }
}
