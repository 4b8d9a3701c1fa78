using System.Numerics;
using System.Runtime.CompilerServices;
using TunLB.Core.Flows;
using TunLB.Core.Packets;

namespace TunLB.Core.DataPath;

/// <summary>
/// Remembers, per fragmented datagram (source, destination, protocol, identification), which real server its
/// fragments go to, so that every fragment reaches the server that reassembles it. Bounded and preallocated:
/// a 4-way set-associative array; a new datagram takes a free or expired way, else the way that expires first.
/// </summary>
/// <remarks>
/// <para>Overlap tracking: each entry remembers up to <see cref="MaxRanges"/> disjoint byte ranges already seen
/// (adjacent ranges merge, so an in-order train is always one range). A fragment overlapping a remembered range
/// is refused (<see cref="DropReason.FragmentOverlap"/>; RFC 5722 treats overlaps as an attack). When a train
/// arrives so out of order that it needs more ranges, tracking of that datagram stops (its fragments are still
/// forwarded) and the receiver's reassembly is the last line of defence.</para>
/// <para>Single-threaded (the data-path worker); nothing allocates after construction.</para>
/// </remarks>
public sealed class FragmentTable
{
    public const int Ways = 4;
    public const int MaxRanges = 4;
    /// <summary>Default lifetime of an entry after its last fragment (Linux ipfrag_time is 30 s).</summary>
    public const long DefaultTimeoutMs = 30_000;

    private struct Entry
    {
        public IpAddress Source, Destination;
        public long ExpiresAtMs;
        public uint Id;
        public int DestinationId;
        public byte Protocol;
        public byte InUse;
        public byte RangeCount;    // 0..MaxRanges; 255 = tracking given up
        public Ranges Ranges;
    }

    [InlineArray(MaxRanges * 2)]
    private struct Ranges { private ushort _first; }   // [start, end) pairs in 8-byte units

    private readonly Entry[] _entries;
    private readonly int _setMask;
    private readonly ulong _seed;
    private readonly long _timeoutMs;
    private long _evictions;

    public FragmentTable(int capacity, ulong seed, long timeoutMs = DefaultTimeoutMs)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, Ways);
        int sets = (int)BitOperations.RoundUpToPowerOf2((uint)((capacity + Ways - 1) / Ways));
        _entries = new Entry[sets * Ways];
        _setMask = sets - 1;
        _seed = seed;
        _timeoutMs = timeoutMs;
    }

    public int Capacity => _entries.Length;
    /// <summary>Live entries replaced before they expired because their set was full.</summary>
    public long Evictions => _evictions;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int SetStart(in IpAddress src, in IpAddress dst, byte proto, uint id)
    {
        ulong h = FlowHash.Combine(FlowHash.Hash(src, _seed), ((ulong)id << 8) | proto);
        h = FlowHash.Combine(h, dst.Lo ^ dst.Hi);
        return ((int)h & _setMask) * Ways;
    }

    private int FindIndex(in IpAddress src, in IpAddress dst, byte proto, uint id, long nowMs)
    {
        var e = _entries;
        int s = SetStart(src, dst, proto, id);
        for (int i = s; i < s + Ways; i++)
        {
            ref Entry x = ref e[i];
            if (x.InUse != 0 && x.Id == id && x.Protocol == proto && x.ExpiresAtMs > nowMs &&
                x.Source.Equals(src) && x.Destination.Equals(dst))
                return i;
        }
        return -1;
    }

    /// <summary>
    /// Looks up the datagram of a fragment and records the fragment's byte range
    /// [<paramref name="offset"/>, <paramref name="offset"/> + <paramref name="length"/>). Returns
    /// <see cref="DropReason.None"/> with the destination id (or -1 when the datagram is unknown), or
    /// <see cref="DropReason.FragmentOverlap"/>.
    /// </summary>
    public DropReason Lookup(in IpAddress src, in IpAddress dst, byte proto, uint id, int offset, int length, long nowMs,
        out int destinationId)
    {
        destinationId = -1;
        int i = FindIndex(src, dst, proto, id, nowMs);
        if (i < 0) return DropReason.None;
        ref Entry x = ref _entries[i];
        if (!AddRange(ref x, offset, length)) return DropReason.FragmentOverlap;
        x.ExpiresAtMs = nowMs + _timeoutMs;
        destinationId = x.DestinationId;
        return DropReason.None;
    }

    /// <summary>
    /// Records a new datagram whose fragment [offset, offset + length) goes to <paramref name="destinationId"/>. A datagram
    /// already tracked (its server went away and the caller chose another) is re-pointed, never entered twice: a second
    /// entry would be shadowed by the first, and the rest of the datagram would not follow the new choice.
    /// </summary>
    public void Add(in IpAddress src, in IpAddress dst, byte proto, uint id, int offset, int length, int destinationId, long nowMs)
    {
        int known = FindIndex(src, dst, proto, id, nowMs);
        if (known >= 0)
        {
            ref Entry k = ref _entries[known];
            k.DestinationId = destinationId;
            k.ExpiresAtMs = nowMs + _timeoutMs;
            AddRange(ref k, offset, length);
            return;
        }
        var e = _entries;
        int s = SetStart(src, dst, proto, id);
        int victim = s;
        for (int i = s; i < s + Ways; i++)
        {
            ref Entry x = ref e[i];
            if (x.InUse == 0 || x.ExpiresAtMs <= nowMs) { victim = i; goto found; }
            if (x.ExpiresAtMs < e[victim].ExpiresAtMs) victim = i;
        }
        _evictions++;
    found:
        ref Entry v = ref e[victim];
        v.Source = src; v.Destination = dst; v.Protocol = proto; v.Id = id;
        v.DestinationId = destinationId;
        v.ExpiresAtMs = nowMs + _timeoutMs;
        v.InUse = 1;
        v.RangeCount = 0;
        AddRange(ref v, offset, length);
    }

    /// <summary>Forgets every entry (e.g. after a configuration change that removed destinations).</summary>
    public void Clear() => Array.Clear(_entries);

    /// <summary>Records a range; false when it overlaps one already seen.</summary>
    private static bool AddRange(ref Entry x, int offset, int length)
    {
        if (x.RangeCount == 255) return true;
        int start = offset >> 3;
        int end = (offset + length + 7) >> 3;
        ref Ranges r = ref x.Ranges;
        int n = x.RangeCount;
        for (int k = 0; k < n; k++)
            if (start < r[2 * k + 1] && r[2 * k] < end) return false;
        // Merge with neighbours that touch it.
        for (int k = 0; k < n; k++)
        {
            if (r[2 * k + 1] == start) { start = r[2 * k]; RemoveAt(ref r, ref n, k); k--; }
            else if (r[2 * k] == end) { end = r[2 * k + 1]; RemoveAt(ref r, ref n, k); k--; }
        }
        if (n == MaxRanges) { x.RangeCount = 255; return true; }
        r[2 * n] = (ushort)start;
        r[2 * n + 1] = (ushort)end;
        x.RangeCount = (byte)(n + 1);
        return true;
    }

    private static void RemoveAt(ref Ranges r, ref int n, int k)
    {
        n--;
        r[2 * k] = r[2 * n];
        r[2 * k + 1] = r[2 * n + 1];
    }
}
