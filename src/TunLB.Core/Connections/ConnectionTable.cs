using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;
using TunLB.Core.Flows;

namespace TunLB.Core.Connections;

/// <summary>
/// The connection table: a bounded hash table of <see cref="ConnEntry"/> structs keyed by 5-tuple,
/// preallocated at construction. Nothing allocates afterwards.
/// </summary>
/// <remarks>
/// <para>Layout: one array of entries (the slots) and one array of bucket heads. Buckets chain entries by
/// slot index, oldest first (new entries go to the tail); free slots form a singly linked free list through the same field. An intrusive doubly
/// linked list orders live entries by last <see cref="Touch"/> (head = oldest), which gives the eviction
/// victim in O(1). Bucket hashing is <see cref="FlowHash"/> with a seed that is random per table unless one
/// is given, so a remote sender cannot predict bucket collisions.</para>
/// <para>Memory: <c>Unsafe.SizeOf&lt;ConnEntry&gt;()</c> = 80 bytes per slot plus 4 bytes per bucket; the
/// bucket count is twice the capacity rounded up to a power of two, so a slot costs 80 + 4 x buckets / capacity
/// bytes: 88.4 bytes at the default 1,000,000 (2,097,152 buckets), at most 96 bytes for any capacity.
/// See <see cref="BytesPerEntry"/>.</para>
/// <para>Persistence templates live in the same table. A connection may name a template
/// (<see cref="ConnEntry.TemplateIndex"/>); the template counts such connections and is neither expired
/// nor evicted nor removable while that count is above zero, so a link never dangles.</para>
/// <para>Not thread-safe: one thread (the data-path worker) owns the table. <see cref="EnumerateEntries"/>
/// is meant for that thread too; called elsewhere it may see torn entries. The one exception is
/// <see cref="TryPeek"/>, which other workers may call at any time (bounded, never throws).</para>
/// </remarks>
public sealed partial class ConnectionTable
{
    public const int DefaultCapacity = 1_000_000;

    /// <summary>How many least-recently-used entries eviction looks at before giving up (skipping templates that control connections).</summary>
    private const int EvictionProbeLimit = 8;

    private readonly ConnEntry[] _entries;
    private readonly int[] _buckets;
    private readonly int _bucketMask;
    private readonly ulong _seed;

    private int _freeHead;
    private int _lruHead = -1, _lruTail = -1;
    // Half-open connections (the engine's SYN_RECV entries) sit in their own LRU list, so they can be evicted first.
    private int _halfHead = -1, _halfTail = -1;
    private int _halfOpenCount;
    private int _halfOpenEvictAt;
    private int _count;
    private int _cursor;
    private long _evictions, _refusals, _evictedHalfOpen;

    // _inUse values: which LRU list holds a live entry.
    private const byte InMainList = 1, InHalfOpenList = 2;

    /// <param name="capacity">Maximum number of entries (connections plus templates).</param>
    /// <param name="policy">What to do when full.</param>
    /// <param name="hashSeed">Bucket hash seed; null picks a random one.</param>
    public ConnectionTable(int capacity = DefaultCapacity, FullTablePolicy policy = FullTablePolicy.EvictOldest, ulong? hashSeed = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(capacity, 1 << 30);
        Policy = policy;
        _seed = hashSeed ?? (ulong)Random.Shared.NextInt64() ^ ((ulong)Random.Shared.NextInt64() << 1);
        _entries = new ConnEntry[capacity];
        // Twice as many buckets as slots (rounded to a power of two): a lookup that misses, which is every new
        // connection, then finds an empty bucket more often and walks half as long a chain on average.
        int buckets = (int)Math.Min(2UL * BitOperations.RoundUpToPowerOf2((uint)capacity), 1UL << 30);
        _buckets = new int[buckets];
        _bucketMask = buckets - 1;
        _buckets.AsSpan().Fill(-1);
        for (int i = 0; i < capacity; i++)
        {
            _entries[i]._nextInBucket = i + 1 < capacity ? i + 1 : -1;
            _entries[i]._lruPrev = _entries[i]._lruNext = -1;
        }
        _freeHead = 0;
        _halfOpenEvictAt = int.MaxValue;   // off until the owner sets a threshold
    }

    public FullTablePolicy Policy { get; set; }
    public int Capacity => _entries.Length;
    public int Count => _count;
    public int BucketCount => _buckets.Length;
    /// <summary>Entries removed to make room (policy <see cref="FullTablePolicy.EvictOldest"/>).</summary>
    public long Evictions => _evictions;
    /// <summary>Adds refused because the table was full (policy Refuse, or no evictable entry found).</summary>
    public long Refusals => _refusals;

    /// <summary>Memory per slot in bytes: the entry struct plus this table's share of the bucket array.</summary>
    public double BytesPerEntry => Unsafe.SizeOf<ConnEntry>() + 4.0 * _buckets.Length / _entries.Length;

    /// <summary>The entry in slot <paramref name="index"/> (an index from Find/Add; only meaningful while the entry lives).</summary>
    public ref ConnEntry this[int index] => ref _entries[index];

    /// <summary>The slot index holding <paramref name="key"/>, or -1.</summary>
    public int Find(in FlowKey key) => Find(key, Hash(key));

    /// <summary>This table's bucket hash of <paramref name="key"/>, for <see cref="Find(in FlowKey, ulong)"/> and
    /// <see cref="Add{TObserver}(in FlowKey, ulong, long, ref TObserver)"/> (one hash per packet).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ulong Hash(in FlowKey key) => FlowHash.Hash(key, _seed);

    /// <summary><see cref="Find(in FlowKey)"/> with the key's <see cref="Hash"/> already computed.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal int Find(in FlowKey key, ulong hash)
    {
        Debug.Assert(hash == Hash(key));
        uint h32 = (uint)hash;
        var entries = _entries;
        int i = _buckets[(int)hash & _bucketMask];
        while (i >= 0)
        {
            ref ConnEntry e = ref entries[i];
            if (e._hash == h32 && e._key.Equals(key)) return i;
            i = e._nextInBucket;
        }
        return -1;
    }

    /// <summary>How many chain links <see cref="TryPeek"/> follows at most.</summary>
    public const int PeekChainLimit = 64;

    /// <summary>
    /// Looks <paramref name="key"/> up read-only from a thread that does not own the table (another data-path
    /// worker) while the owner may be changing it. Returns the live, unexpired connection's destination id.
    /// </summary>
    /// <remarks>
    /// Safe under concurrent modification: every index is range-checked before use, the chain walk stops after
    /// <see cref="PeekChainLimit"/> links (a chain that the owner relinks meanwhile, or a walk that strays onto
    /// the free list, cannot loop forever), nothing throws or allocates. The result may be stale or torn (an entry
    /// removed or reused while it was read): the caller uses it for one packet's forwarding decision, so the worst
    /// case is one misdirected packet, as with any table miss. Templates are never returned.
    /// </remarks>
    public bool TryPeek(in FlowKey key, long nowMs, out int destinationId) => TryPeek(in key, nowMs, template: false, out destinationId);

    /// <summary>
    /// <see cref="TryPeek(in FlowKey, long, out int)"/> for a persistence template: returns the destination of a live
    /// template (unexpired, or still controlling connections) with this key. Same guarantees.
    /// </summary>
    public bool TryPeekTemplate(in FlowKey key, long nowMs, out int destinationId) => TryPeek(in key, nowMs, template: true, out destinationId);

    private bool TryPeek(in FlowKey key, long nowMs, bool template, out int destinationId)
    {
        destinationId = -1;
        ulong h = Hash(key);
        uint h32 = (uint)h;
        ConnEntry[] entries = _entries;
        int[] buckets = _buckets;
        int i = Volatile.Read(ref buckets[(int)h & _bucketMask]);
        for (int steps = 0; steps < PeekChainLimit && (uint)i < (uint)entries.Length; steps++)
        {
            ref ConnEntry e = ref entries[i];
            if (e._hash == h32 && e._key.Equals(key))
            {
                int d = e.DestinationId;
                bool live = e.ExpiresAtMs > nowMs || (template && e._controlled > 0);
                if (Volatile.Read(ref e._inUse) == 0 || !live || (e.State == ConnState.Template) != template || d < 0) return false;
                destinationId = d;
                return true;
            }
            i = Volatile.Read(ref e._nextInBucket);
        }
        return false;
    }

    /// <summary>True when the slot holds an entry.</summary>
    public bool IsLive(int index) => (uint)index < (uint)_entries.Length && _entries[index]._inUse != 0;

    /// <summary>
    /// Inserts <paramref name="key"/>, which must not be present (call <see cref="Find"/> first). Returns the slot
    /// index, or -1 when the table is full and the policy refuses (or no entry could be evicted). The new entry
    /// has State None, no flags, DestinationId -1, no template, ExpiresAtMs = <paramref name="nowMs"/>, and is the
    /// most recently touched. An evicted entry is reported to <paramref name="observer"/> first.
    /// </summary>
    public int Add<TObserver>(in FlowKey key, long nowMs, ref TObserver observer) where TObserver : struct, IConnectionObserver =>
        Add(key, Hash(key), nowMs, ref observer);

    /// <summary><see cref="Add{TObserver}(in FlowKey, long, ref TObserver)"/> with the key's <see cref="Hash"/> already computed.</summary>
    internal int Add<TObserver>(in FlowKey key, ulong hash, long nowMs, ref TObserver observer) where TObserver : struct, IConnectionObserver
    {
        Debug.Assert(hash == Hash(key));
        Debug.Assert(Find(key) < 0, "key already present");
        if (_halfHead >= 0 && _count >= _halfOpenEvictAt) EvictHalfOpen(ref observer);
        if (_freeHead < 0 && (Policy == FullTablePolicy.Refuse || !EvictOldest(ref observer)))
        {
            _refusals++;
            return -1;
        }

        int i = _freeHead;
        ref ConnEntry e = ref _entries[i];
        _freeHead = e._nextInBucket;

        e._key = key;
        e._hash = (uint)hash;
        e.ExpiresAtMs = nowMs;
        e.DestinationId = -1;
        e._templateIndex = -1;
        e._controlled = 0;
        e.State = ConnState.None;
        e.Flags = ConnFlags.None;
        e._inUse = InMainList;

        // Append at the chain's tail, so a chain runs oldest first: the eviction victim (the least recently used entry)
        // is then usually its chain's head and unlinks without a walk. The walk here is over the lines the caller's
        // Find of the same key has just read.
        ref int link = ref _buckets[(int)hash & _bucketMask];
        while (link >= 0) link = ref _entries[link]._nextInBucket;
        e._nextInBucket = -1;
        link = i;

        LruAppend(i);
        _count++;
        return i;
    }

    /// <summary>
    /// Like <see cref="Add{TObserver}"/> but links the new connection to the template in slot
    /// <paramref name="templateIndex"/> (which then controls it). The template cannot be the eviction victim.
    /// </summary>
    public int AddControlled<TObserver>(in FlowKey key, int templateIndex, long nowMs, ref TObserver observer) where TObserver : struct, IConnectionObserver
    {
        ref ConnEntry t = ref _entries[templateIndex];
        Debug.Assert(t._inUse != 0);
        t._controlled++;                      // pins the template while Add may evict
        int i = Add(key, nowMs, ref observer);
        if (i < 0) { t._controlled--; return -1; }
        _entries[i]._templateIndex = templateIndex;
        return i;
    }

    /// <summary>Marks the entry as most recently used.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Touch(int index)
    {
        if (index == _lruTail || index == _halfTail) return;
        LruUnlink(index);
        LruAppend(index);
    }


    /// <summary>True when the entry's time has passed and it is not a template still controlling connections.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool IsExpired(int index, long nowMs)
    {
        ref ConnEntry e = ref _entries[index];
        return e.ExpiresAtMs <= nowMs && e._controlled == 0;
    }

    /// <summary>
    /// Removes the entry in slot <paramref name="index"/>, reporting it to <paramref name="observer"/>.
    /// Returns false (and does nothing) when the slot is free or the entry is a template that still controls
    /// connections. Removing a controlled connection releases its template.
    /// </summary>
    public bool Remove<TObserver>(int index, ref TObserver observer) where TObserver : struct, IConnectionObserver
    {
        if ((uint)index >= (uint)_entries.Length) return false;
        ref ConnEntry e = ref _entries[index];
        if (e._inUse == 0 || e._controlled != 0) return false;
        RemoveCore(index, ref observer);
        return true;
    }

    /// <summary>
    /// Incremental expiry: examines at most <paramref name="budget"/> slots, continuing from where the previous
    /// call stopped (wrapping around), and removes the expired entries among them. Returns how many it removed.
    /// A budget of <see cref="Capacity"/> sweeps the whole table once.
    /// </summary>
    public int Expire<TObserver>(long nowMs, int budget, ref TObserver observer) where TObserver : struct, IConnectionObserver
    {
        var entries = _entries;
        int n = budget < entries.Length ? budget : entries.Length;
        int cursor = _cursor, removed = 0;
        for (; n > 0; n--)
        {
            ref ConnEntry e = ref entries[cursor];
            if (e._inUse != 0 && e.ExpiresAtMs <= nowMs && e._controlled == 0)
            {
                RemoveCore(cursor, ref observer);
                removed++;
            }
            if (++cursor == entries.Length) cursor = 0;
        }
        _cursor = cursor;
        return removed;
    }

    /// <summary>
    /// Slot indices of live entries, oldest first (LRU order): the half-open ones (evicted first) and then the others.
    /// Not for the hot path.
    /// </summary>
    public IEnumerable<int> LiveIndicesOldestFirst()
    {
        int guard = _count;
        for (int i = _halfHead; i >= 0 && guard-- > 0; i = _entries[i]._lruNext)
            yield return i;
        for (int i = _lruHead; i >= 0 && guard-- > 0; i = _entries[i]._lruNext)
            yield return i;
    }

    /// <summary>Copies of all live entries in slot order, for listings (ipvsadm -L -c). Allocates; not for the hot path.</summary>
    public IEnumerable<ConnEntry> EnumerateEntries()
    {
        for (int i = 0; i < _entries.Length; i++)
            if (_entries[i]._inUse != 0)
                yield return _entries[i];
    }

    // Evicts the least recently touched entry that controls no connection. Templates still controlling
    // connections are moved to the tail (they are in use by definition). Gives up after a few such.
    private bool EvictOldest<TObserver>(ref TObserver observer) where TObserver : struct, IConnectionObserver
    {
        for (int probe = 0; probe < EvictionProbeLimit; probe++)
        {
            int victim = _lruHead;
            if (victim < 0) return false;
            if (_entries[victim]._controlled == 0)
            {
                RemoveCore(victim, ref observer);
                _evictions++;
                PrefetchNextVictim();
                return true;
            }
            Touch(victim);
        }
        return false;
    }

    // At the connection limit every new connection evicts the LRU head, and removing it reads its bucket (to unlink it
    // from its chain) and writes its LRU successor: two cache misses in a big table. The new head is known (and cached)
    // right after an eviction, so fetch those two lines now, while the current packet is still being processed.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private unsafe void PrefetchNextVictim()
    {
        if (!Sse.IsSupported) return;
        int head = _lruHead;
        if (head < 0) return;
        ref ConnEntry h = ref _entries[head];
        Sse.Prefetch0(Unsafe.AsPointer(ref _buckets[(int)h._hash & _bucketMask]));
        int next = h._lruNext;
        if (next >= 0)
        {
            // The fields an unlink touches sit at the end of the 80-byte entry, which may straddle two lines.
            ref ConnEntry n = ref _entries[next];
            Sse.Prefetch0(Unsafe.AsPointer(ref Unsafe.As<int, byte>(ref n.DestinationId)));
            Sse.Prefetch0(Unsafe.AsPointer(ref n._inUse));
        }
    }

    private void RemoveCore<TObserver>(int index, ref TObserver observer) where TObserver : struct, IConnectionObserver
    {
        ref ConnEntry e = ref _entries[index];
        observer.OnRemoved(ref e);

        if (e._templateIndex >= 0)
        {
            _entries[e._templateIndex]._controlled--;
            e._templateIndex = -1;
        }

        // Unlink from the hash chain (the bucket index is the low bits of the stored hash).
        ref int link = ref _buckets[(int)e._hash & _bucketMask];
        while (link != index)
        {
            Debug.Assert(link >= 0, "entry missing from its chain");
            link = ref _entries[link]._nextInBucket;
        }
        link = e._nextInBucket;

        LruUnlink(index);
        e._inUse = 0;
        e.State = ConnState.None;
        e.Flags = ConnFlags.None;
        e.DestinationId = -1;
        e._nextInBucket = _freeHead;
        _freeHead = index;
        _count--;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void LruAppend(int index)
    {
        ref ConnEntry e = ref _entries[index];
        bool half = e._inUse == InHalfOpenList;
        ref int head = ref half ? ref _halfHead : ref _lruHead;
        ref int tail = ref half ? ref _halfTail : ref _lruTail;
        e._lruPrev = tail;
        e._lruNext = -1;
        if (tail >= 0) _entries[tail]._lruNext = index; else head = index;
        tail = index;
        if (half) _halfOpenCount++;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void LruUnlink(int index)
    {
        ref ConnEntry e = ref _entries[index];
        bool half = e._inUse == InHalfOpenList;
        ref int head = ref half ? ref _halfHead : ref _lruHead;
        ref int tail = ref half ? ref _halfTail : ref _lruTail;
        if (e._lruPrev >= 0) _entries[e._lruPrev]._lruNext = e._lruNext; else head = e._lruNext;
        if (e._lruNext >= 0) _entries[e._lruNext]._lruPrev = e._lruPrev; else tail = e._lruPrev;
        e._lruPrev = e._lruNext = -1;
        if (half) _halfOpenCount--;
    }
}
