using System.Numerics;

namespace TunLB.Core.Sync;

/// <summary>
/// A bounded single-producer single-consumer ring of <see cref="SyncRecord"/>s: one data-path worker pushes, the sync
/// sender pops. Preallocated; a push never waits, locks or allocates: when the ring is full the record is dropped and
/// counted (<see cref="Dropped"/>), so a slow or stuck sender never holds up the data path.
/// </summary>
public sealed class SyncEventQueue
{
    private readonly SyncRecord[] _slots;
    private readonly int _mask;
    private long _head;    // next slot to pop; written by the consumer
    private long _tail;    // next slot to push; written by the producer
    private long _dropped; // written by the producer

    /// <param name="length">Records the ring holds at least (rounded up to a power of two).</param>
    public SyncEventQueue(int length)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(length, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, 1 << 24);
        int n = (int)BitOperations.RoundUpToPowerOf2((uint)length);
        _slots = new SyncRecord[n];
        _mask = n - 1;
    }

    public int Capacity => _slots.Length;

    /// <summary>Records dropped because the ring was full.</summary>
    public long Dropped => Volatile.Read(ref _dropped);

    /// <summary>Records waiting.</summary>
    public int Count => (int)(Volatile.Read(ref _tail) - Volatile.Read(ref _head));

    /// <summary>Producer only. False (and counted) when full.</summary>
    public bool TryPush(in SyncRecord r)
    {
        long tail = _tail;
        if (tail - Volatile.Read(ref _head) >= _slots.Length)
        {
            Volatile.Write(ref _dropped, _dropped + 1);
            return false;
        }
        _slots[(int)tail & _mask] = r;
        Volatile.Write(ref _tail, tail + 1); // publishes the slot
        return true;
    }

    /// <summary>Consumer only. False when empty.</summary>
    public bool TryPop(out SyncRecord r)
    {
        long head = _head;
        if (head == Volatile.Read(ref _tail))
        {
            r = default;
            return false;
        }
        r = _slots[(int)head & _mask];
        Volatile.Write(ref _head, head + 1); // frees the slot
        return true;
    }
}
