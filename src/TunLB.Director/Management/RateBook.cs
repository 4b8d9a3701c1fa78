using TunLB.Core.Model;

namespace TunLB.Director.Management;

/// <summary>The IPVS estimators of every real server (by destination id) and of the director as a whole.</summary>
internal sealed class RateBook
{
    private readonly Dictionary<int, RateEstimator> _reals = new();
    private long _lastSampleTicks;

    public RateEstimator Total { get; } = new();

    public RateEstimator? Of(Destination d) => _reals.GetValueOrDefault(d.Id);

    /// <summary>Seconds since the previous call (0 the first time), from the monotonic clock.</summary>
    public double SecondsSinceLastSample()
    {
        long now = System.Diagnostics.Stopwatch.GetTimestamp();
        double seconds = _lastSampleTicks == 0 ? 0 : (now - _lastSampleTicks) / (double)System.Diagnostics.Stopwatch.Frequency;
        _lastSampleTicks = now;
        return seconds;
    }

    /// <summary>One estimator tick over every service and real server.</summary>
    public void Sample(IReadOnlyList<ServiceEntry> entries, double seconds)
    {
        long c = 0, p = 0, b = 0;
        foreach (var e in entries)
        {
            e.Rates.Sample(e.Stats.Connections, e.Stats.InPackets, e.Stats.InBytes, seconds);
            c += e.Stats.Connections; p += e.Stats.InPackets; b += e.Stats.InBytes;
            foreach (var d in e.Destinations)
            {
                if (!_reals.TryGetValue(d.Id, out var r)) _reals[d.Id] = r = new RateEstimator();
                r.Sample(d.Connections, d.InPackets, d.InBytes, seconds);
            }
        }
        Total.Sample(c, p, b, seconds);
    }

    public void Reset(Destination d)
    {
        if (_reals.TryGetValue(d.Id, out var r)) r.Reset();
    }

    /// <summary>Forgets the estimators of reals that are gone.</summary>
    public void Retain(HashSet<int> live)
    {
        foreach (var id in _reals.Keys.Where(id => !live.Contains(id)).ToList()) _reals.Remove(id);
    }
}
