using TunLB.Core.Flows;
using TunLB.Core.Model;

namespace TunLB.Core.Scheduling;

/// <summary>
/// wrr: IPVS weighted round robin (ip_vs_wrr). A current weight level starts at the largest weight and
/// steps down by the gcd of the weights each time the list is exhausted; at each level every destination
/// whose weight reaches the level is picked once. Picks are thus interleaved and, over one cycle, each
/// destination is picked weight/gcd times (4,3,2 gives A A B A B C A B C).
/// <para>
/// Update snapshots the destinations in the given order with their weights (an immutable state swapped as
/// one reference); Schedule uses the snapshot and ignores the array argument. Availability (alive, weight
/// still positive, not overloaded) is checked live. Levels that no available destination can reach are
/// skipped in one step, so a decision costs at most about three passes over the list.
/// </para>
/// </summary>
internal sealed class WeightedRoundRobinScheduler : IScheduler
{
    private sealed class State(Destination[] dests, int[] weights, int gcd, int maxLevel)
    {
        public readonly Destination[] Dests = dests;
        public readonly int[] Weights = weights; // snapshot; 0 for dead or zero-weight destinations
        public readonly int Gcd = gcd;           // gcd of the positive weights (IPVS di)
        public readonly int MaxLevel = maxLevel; // max weight - (gcd - 1) (IPVS mw); 0 = nothing schedulable
    }

    private static readonly State s_empty = new([], [], 0, 0);

    private volatile State _state = s_empty;

    // Position of the last pick (low 32 bits, -1 = none) and the current level (high 32 bits), packed so
    // one plain 64-bit store publishes both. Validated against the state on every read.
    private long _cursor;

    public string Name => SchedulerFactory.WeightedRoundRobin;
    public bool IsConsistentHash => false;

    public void Update(Destination[] destinations)
    {
        var dests = (Destination[])destinations.Clone();
        var weights = new int[dests.Length];
        int gcd = 0, max = 0;
        for (int i = 0; i < dests.Length; i++)
        {
            Destination d = dests[i];
            int w = d is not null && d.Usable ? d.Weight : 0;
            if (w <= 0) continue;
            weights[i] = w;
            gcd = SchedulerMath.Gcd(w, gcd);
            if (w > max) max = w;
        }
        int maxLevel = gcd > 0 ? max - (gcd - 1) : 0;
        var state = new State(dests, weights, gcd, maxLevel);
        _cursor = Pack(-1, maxLevel);
        _state = state;
    }

    private static long Pack(int index, int level) => ((long)level << 32) | (uint)index;

    public Destination? Schedule(in FlowKey flow, Destination[] destinations)
    {
        State s = _state;
        int n = s.Dests.Length;
        int mw = s.MaxLevel;
        if (mw == 0) return null;
        int di = s.Gcd;
        int[] weights = s.Weights;
        Destination[] dests = s.Dests;

        long cursor = _cursor;
        int i = (int)cursor;
        int cw = (int)(cursor >> 32);
        if (i < -1 || i >= n || cw <= 0 || cw > mw) { i = -1; cw = mw; }

        // A partial pass at the current level, then at most one wrap followed by a full pass at a level
        // some available destination reaches. The extra wrap allowance only matters if availability
        // changes while we scan.
        for (int steps = 0, limit = 2 * n + 2; steps < limit; steps++)
        {
            if (++i >= n)
            {
                i = 0;
                cw -= di;
                if (cw <= 0) cw = mw;
                int best = MaxAvailableWeight(dests, weights);
                if (best == 0) break;
                if (cw > best)
                {
                    // Largest level mw - k*di not above best; it is >= 1 because best is a multiple of di.
                    int k = (mw - best + di - 1) / di;
                    cw = mw - k * di;
                }
            }
            if (weights[i] >= cw && dests[i].IsAvailable)
            {
                _cursor = Pack(i, cw);
                return dests[i];
            }
        }
        _cursor = Pack(-1, mw);
        return null;
    }

    private static int MaxAvailableWeight(Destination[] dests, int[] weights)
    {
        int best = 0;
        for (int j = 0; j < dests.Length; j++)
        {
            int w = weights[j];
            if (w > best && dests[j].IsAvailable) best = w;
        }
        return best;
    }
}
