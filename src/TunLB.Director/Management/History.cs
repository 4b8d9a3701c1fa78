namespace TunLB.Director.Management;

/// <summary>One point of the director's recent history: rates over the interval that ended at <see cref="Time"/>.</summary>
public readonly record struct HistorySample(DateTimeOffset Time, double Cps, double InPps, double InBps, int Connections, double DropsPerSecond);

/// <summary>
/// The last <see cref="Capacity"/> samples of director-wide rates (raw deltas over each estimator tick, not smoothed),
/// connection-table fill and drops, for the status page's graphs (GET /api/v1/history). Fixed memory: a ring of
/// structs. Fed by the estimator tick (every 2 s: 300 samples are 10 minutes). Thread-safe.
/// </summary>
public sealed class History
{
    /// <summary>Ten minutes at the estimator's 2 s tick.</summary>
    public const int DefaultCapacity = 300;

    private readonly HistorySample[] _ring;
    private readonly object _gate = new();
    private long _count;
    private long _conns, _packets, _bytes, _drops;
    private bool _primed;

    public History(int capacity = DefaultCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _ring = new HistorySample[capacity];
    }

    public int Capacity => _ring.Length;

    /// <summary>
    /// Takes the cumulative totals <paramref name="seconds"/> after the previous call. The first call (or one with no
    /// time passed) only primes the deltas. A total below its previous value (zeroed) counts from 0.
    /// </summary>
    public void Add(DateTimeOffset time, double seconds, long conns, long packets, long bytes, long drops, int tableEntries)
    {
        lock (_gate)
        {
            if (!_primed || seconds <= 0)
            {
                (_conns, _packets, _bytes, _drops, _primed) = (conns, packets, bytes, drops, true);
                return;
            }
            var s = new HistorySample(time, Delta(conns, ref _conns) / seconds, Delta(packets, ref _packets) / seconds,
                Delta(bytes, ref _bytes) / seconds, tableEntries, Delta(drops, ref _drops) / seconds);
            _ring[(int)(_count % _ring.Length)] = s;
            _count++;
        }
    }

    private static long Delta(long now, ref long last)
    {
        long d = now >= last ? now - last : now;
        last = now;
        return d;
    }

    /// <summary>The samples kept, oldest first.</summary>
    public HistorySample[] Samples()
    {
        lock (_gate)
        {
            int n = (int)Math.Min(_count, _ring.Length);
            var a = new HistorySample[n];
            long first = _count - n;
            for (int i = 0; i < n; i++) a[i] = _ring[(int)((first + i) % _ring.Length)];
            return a;
        }
    }
}
