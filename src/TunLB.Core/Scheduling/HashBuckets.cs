using System.Runtime.CompilerServices;
using TunLB.Core.Flows;
using TunLB.Core.Model;

namespace TunLB.Core.Scheduling;

/// <summary>
/// The 256-bucket table of the sh and dh schedulers (IPVS IP_VS_SH_TAB_SIZE / IP_VS_DH_TAB_SIZE).
/// Immutable once built; schedulers publish a new instance on every update.
/// <para>
/// Filling follows IPVS's weighted sh: walk the destinations round robin and give each one
/// weight consecutive buckets before moving on, until all buckets are assigned. Two deliberate
/// differences: destinations are taken in canonical address:port order (so every director builds the
/// same table whatever the configuration order), and weights are first divided by their gcd (so 100:200
/// behaves like 1:2 instead of letting the first destination fill 100 buckets in a row). Dead and
/// zero-weight destinations get no bucket at all.
/// </para>
/// </summary>
internal sealed class HashBuckets
{
    public const int Size = 256;
    private const int Mask = Size - 1;
    /// <summary>Rehash probes tried by the fallback before scanning the table in order.</summary>
    public const int FallbackProbes = 32;

    /// <summary>Bucket to destination; all null when nothing is eligible.</summary>
    public readonly Destination?[] Buckets;

    public static readonly HashBuckets Empty = new(new Destination?[Size]);

    private HashBuckets(Destination?[] buckets) { Buckets = buckets; }

    public static HashBuckets Build(Destination[] destinations)
    {
        var (dests, weights) = SchedulerMath.EligibleSorted(destinations);
        var buckets = new Destination?[Size];
        if (dests.Length == 0) return new HashBuckets(buckets);

        int gcd = 0;
        foreach (int w in weights) gcd = SchedulerMath.Gcd(w, gcd);

        int di = 0, count = 0;
        for (int b = 0; b < Size; b++)
        {
            buckets[b] = dests[di];
            if (++count >= weights[di] / gcd)
            {
                count = 0;
                if (++di == dests.Length) di = 0;
            }
        }
        return new HashBuckets(buckets);
    }

    /// <summary>
    /// The destination for a flow hash; bucket = low 8 bits. When the bucket's destination is unavailable
    /// and <paramref name="fallback"/> is set, the hash is re-mixed with offsets 1, 2, ... (as IPVS
    /// sh-fallback rehashes) for up to <see cref="FallbackProbes"/> probes, so the clients of a failed
    /// destination spread over the survivors in proportion to their buckets. (A fixed stride would not:
    /// the table is periodic, so strided probes from one destination's buckets keep hitting the same few
    /// neighbours.) If every probe is unavailable, the remaining buckets are scanned in order, which keeps
    /// the answer deterministic and the cost bounded while still finding any available destination.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Destination? Lookup(ulong hash, bool fallback)
    {
        Destination?[] buckets = Buckets;
        int b = (int)hash & Mask;
        Destination? d = buckets[b];
        if (d is null) return null; // empty table
        if (d.IsAvailable) return d;
        if (!fallback) return null;

        for (ulong k = 1; k <= FallbackProbes; k++)
        {
            d = buckets[(int)FlowHash.Combine(hash, k) & Mask];
            if (d is not null && d.IsAvailable) return d;
        }
        for (int j = 1; j < Size; j++)
        {
            d = buckets[(b + j) & Mask];
            if (d is not null && d.IsAvailable) return d;
        }
        return null;
    }
}
