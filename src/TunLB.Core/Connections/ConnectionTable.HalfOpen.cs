using System.Diagnostics;
using TunLB.Core.Flows;

namespace TunLB.Core.Connections;

// Half-open entries (IPVS drop_entry): the engine marks its SYN_RECV connections, which live in their own LRU list and
// are evicted before any other entry once the table is filled to a threshold.
public sealed partial class ConnectionTable
{
    /// <summary>Live entries marked half-open (<see cref="SetHalfOpen"/>).</summary>
    public int HalfOpenCount => _halfOpenCount;

    /// <summary>Half-open entries removed to make room for new entries (IPVS drop_entry).</summary>
    public long EvictedHalfOpen => _evictedHalfOpen;

    /// <summary>
    /// From this many live entries on, every new entry first evicts the oldest half-open entry (if there is one), as
    /// IPVS's drop_entry sheds SYN_RECV entries under memory pressure; established entries go only after every half-open
    /// one. <see cref="Capacity"/> (or more) does this only when the table is full; the default, <see cref="int.MaxValue"/>, never
    /// (the full-table policy alone decides).
    /// </summary>
    public int HalfOpenEvictionThreshold
    {
        get => _halfOpenEvictAt;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(value);
            _halfOpenEvictAt = value == int.MaxValue ? value : Math.Min(value, _entries.Length);
        }
    }

    /// <summary>
    /// Moves a live entry into (true) or out of the half-open list, as the most recently used entry of that list. The
    /// engine marks its SYN_RECV connections, which <see cref="Add{TObserver}(in FlowKey, long, ref TObserver)"/> evicts
    /// first (<see cref="HalfOpenEvictionThreshold"/>); without a threshold this is a <see cref="Touch"/>. Templates that
    /// control connections stay where they are.
    /// </summary>
    public void SetHalfOpen(int index, bool halfOpen)
    {
        ref ConnEntry e = ref _entries[index];
        Debug.Assert(e._inUse != 0);
        // Off (no threshold): one LRU list keeps the global order the full-table policy evicts by.
        if (e._controlled != 0 || _halfOpenEvictAt == int.MaxValue) { Touch(index); return; }
        byte list = halfOpen ? InHalfOpenList : InMainList;
        if (e._inUse == list) { Touch(index); return; }
        LruUnlink(index);
        e._inUse = list;
        LruAppend(index);
    }

    /// <summary>True when the live entry is in the half-open list.</summary>
    public bool IsHalfOpen(int index) => (uint)index < (uint)_entries.Length && _entries[index]._inUse == InHalfOpenList;

    // The oldest half-open entry goes (never a template: those stay in the main list).
    private bool EvictHalfOpen<TObserver>(ref TObserver observer) where TObserver : struct, IConnectionObserver
    {
        int victim = _halfHead;
        if (victim < 0 || _entries[victim]._controlled != 0) return false;
        RemoveCore(victim, ref observer);
        _evictedHalfOpen++;
        return true;
    }
}
