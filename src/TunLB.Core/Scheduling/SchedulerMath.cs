using System.Runtime.CompilerServices;
using TunLB.Core.Model;

namespace TunLB.Core.Scheduling;

/// <summary>Small helpers shared by the schedulers.</summary>
internal static class SchedulerMath
{
    public static int Gcd(int a, int b)
    {
        while (b != 0) { int t = a % b; a = b; b = t; }
        return a;
    }

    /// <summary>
    /// The IPVS connection overhead of a destination: active connections weigh 256 times an inactive
    /// one (ip_vs_dest_conn_overhead). Counters are read once each; negative (racy) values count as 0.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static long Overhead(Destination d)
    {
        long active = d.ActiveConnections;
        long inactive = d.InactiveConnections;
        if (active < 0) active = 0;
        if (inactive < 0) inactive = 0;
        return (active << 8) + inactive;
    }

    /// <summary>
    /// Availability check that uses a weight the caller already read, so that one scheduling decision
    /// sees a single consistent value of the volatile weight.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsAvailable(Destination d, int weight) => weight > 0 && d.Usable && !d.IsOverloaded;

    /// <summary>Destinations a weight-derived table may contain: alive with a positive weight.</summary>
    public static bool IsEligible(Destination? d) => d is not null && d.Usable && d.Weight > 0;

    /// <summary>
    /// Canonical order for hash tables: by address (numeric, network order), then port, then Id as a
    /// last resort for duplicates. Independent of the order destinations were configured in, so that
    /// directors sharing a VIP build identical tables.
    /// </summary>
    public static int CompareEndpoint(Destination x, Destination y)
    {
        int c = x.Address.Hi.CompareTo(y.Address.Hi);
        if (c != 0) return c;
        c = x.Address.Lo.CompareTo(y.Address.Lo);
        if (c != 0) return c;
        c = x.Port.CompareTo(y.Port);
        return c != 0 ? c : x.Id.CompareTo(y.Id);
    }

    /// <summary>Alive, positive-weight destinations in canonical endpoint order, with their weights as read once.</summary>
    public static (Destination[] Dests, int[] Weights) EligibleSorted(Destination[]? destinations)
    {
        var list = new List<(Destination D, int W)>();
        if (destinations is not null)
        {
            foreach (var d in destinations)
            {
                if (d is null || !d.Usable) continue;
                int w = d.Weight;
                if (w > 0) list.Add((d, w));
            }
        }
        list.Sort((a, b) => CompareEndpoint(a.D, b.D));
        var dests = new Destination[list.Count];
        var weights = new int[list.Count];
        for (int i = 0; i < list.Count; i++) { dests[i] = list[i].D; weights[i] = list[i].W; }
        return (dests, weights);
    }

    /// <summary>"a.b.c.d:port" for IPv4, "[v6]:port" for IPv6: the identity hashed by Maglev.</summary>
    public static string EndpointIdentity(Destination d) =>
        d.Address.IsV4 ? $"{d.Address}:{d.Port}" : $"[{d.Address}]:{d.Port}";
}
