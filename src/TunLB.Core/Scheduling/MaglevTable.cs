using System.Text;
using TunLB.Core.Flows;
using TunLB.Core.Model;

namespace TunLB.Core.Scheduling;

/// <summary>
/// An immutable Maglev lookup table (Eisenbud et al., NSDI 2016, section 3.4), weighted the way IPVS
/// ip_vs_mh does it. Built on the control plane; read lock-free by the data path.
/// <para>
/// Every eligible destination (alive, weight &gt; 0) gets a preference permutation of the M slots,
/// slot_j = (offset + j*skip) mod M, where offset and skip come from two seeded <see cref="FlowHash"/>
/// hashes of its identity "address:port"; since M is prime and 1 &lt;= skip &lt; M each permutation
/// covers every slot. Destinations then take turns, in canonical address:port order, each claiming its
/// next still-free preferred slot, until the table is full. A destination with weight w takes
/// (w/g) &gt;&gt; shift consecutive claims per round (at least one), g being the gcd of the weights and the
/// shift keeping the largest per-round count below about sqrt(M); so table shares follow the weights.
/// </para>
/// <para>
/// Nothing here depends on the process, the machine or the configuration order: the same set of
/// endpoints and weights always yields the same table, which lets several directors agree on a flow.
/// </para>
/// </summary>
internal sealed class MaglevTable
{
    /// <summary>Seeds of the offset and skip hashes (fixed forever: changing them reshuffles every table).</summary>
    internal const ulong OffsetSeed = 0x4D47_4C56_4F46_5331UL; // "MGLVOFS1"
    internal const ulong SkipSeed = 0x4D47_4C56_534B_5032UL;   // "MGLVSKP2"

    /// <summary>Prime table size M.</summary>
    public readonly int Size;

    /// <summary>Eligible destinations in canonical order; <see cref="Table"/> holds indexes into it.</summary>
    public readonly Destination[] Destinations;

    /// <summary>Slot to index in <see cref="Destinations"/>; all -1 when there is no eligible destination.</summary>
    public readonly int[] Table;

    private MaglevTable(int size, Destination[] destinations, int[] table)
    {
        Size = size; Destinations = destinations; Table = table;
    }

    /// <summary>An empty table of size M (every slot -1).</summary>
    public static MaglevTable Empty(int size)
    {
        var t = new int[size];
        Array.Fill(t, -1);
        return new MaglevTable(size, [], t);
    }

    /// <summary>Hash of a destination identity with one of the two permutation seeds.</summary>
    internal static ulong IdentityHash(Destination d, ulong seed)
    {
        string id = SchedulerMath.EndpointIdentity(d);
        Span<byte> buf = stackalloc byte[64];
        int len = Encoding.ASCII.GetBytes(id, buf);
        return FlowHash.Hash(buf[..len], seed);
    }

    public static MaglevTable Build(Destination[] destinations, int size)
    {
        var (dests, weights) = SchedulerMath.EligibleSorted(destinations);
        int n = dests.Length;
        if (n == 0) return Empty(size);

        // Turns per round: weight/gcd, scaled down by a power of two when the largest would exceed
        // about sqrt(M) (IPVS uses the same idea), never below one for a positive weight.
        int gcd = 0, max = 0;
        foreach (int w in weights) { gcd = SchedulerMath.Gcd(w, gcd); if (w > max) max = w; }
        int capBits = Log2Floor(size) / 2;
        int shift = Math.Max(0, BitLength(max / gcd) - capBits);
        var turns = new int[n];
        var next = new int[n];  // next preferred slot to try
        var skip = new int[n];
        for (int i = 0; i < n; i++)
        {
            turns[i] = Math.Max(1, (weights[i] / gcd) >> shift);
            next[i] = (int)(IdentityHash(dests[i], OffsetSeed) % (ulong)size);
            skip[i] = (int)(IdentityHash(dests[i], SkipSeed) % (ulong)(size - 1)) + 1;
        }

        var table = new int[size];
        Array.Fill(table, -1);
        int filled = 0;
        while (true)
        {
            for (int i = 0; i < n; i++)
            {
                int c = next[i], s = skip[i];
                for (int t = turns[i]; t > 0; t--)
                {
                    while (table[c] >= 0)
                    {
                        c += s;
                        if (c >= size) c -= size;
                    }
                    table[c] = i;
                    if (++filled == size) return new MaglevTable(size, dests, table);
                    c += s;
                    if (c >= size) c -= size;
                }
                next[i] = c;
            }
        }
    }

    private static int Log2Floor(int v) => 31 - int.LeadingZeroCount(v);
    private static int BitLength(int v) => 32 - int.LeadingZeroCount(v);
}
