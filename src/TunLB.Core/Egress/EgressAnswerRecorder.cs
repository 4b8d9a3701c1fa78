namespace TunLB.Core.Egress;

/// <summary>
/// A bounded ring of <see cref="EgressAnswer"/>s: the director-side half of `tunlb egress-check`.
/// <para>
/// <see cref="TryRecord"/> is meant for the per-packet path (the director's worker, before it drops ICMP to a VIP;
/// `tunlb egress-listen`'s capture loop): it never allocates, locks or throws, and returns false at once for anything
/// that is not an ICMP error quoting an egress probe. Several threads may record at once (each claims a slot with one
/// interlocked increment). Readers (<see cref="GetAnswers"/>, <see cref="Snapshot"/>) run on any thread and never block
/// writers: every slot carries a sequence number (odd while being written) and a reader retries or skips a slot that
/// changed under it.
/// </para>
/// When the ring is full the oldest answers are overwritten; one check produces at most 64 × 3 × 2 answers.
/// </summary>
public sealed class EgressAnswerRecorder
{
    private struct Slot
    {
        public int Version; // 0 = never written; odd = being written; even = stable
        public EgressAnswer Answer;
    }

    private readonly Slot[] _slots;
    private long _next;
    private long _recorded;
    private long _collisions;

    public EgressAnswerRecorder(int capacity = 4096)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _slots = new Slot[capacity];
    }

    public int Capacity => _slots.Length;

    /// <summary>Answers recorded since start (including those since overwritten).</summary>
    public long Recorded => Interlocked.Read(ref _recorded);

    /// <summary>Answers lost because two writers wrapped onto the same slot at the same moment (practically never).</summary>
    public long Collisions => Interlocked.Read(ref _collisions);

    /// <summary>
    /// Records <paramref name="ipPacket"/> when it is an ICMP or ICMPv6 error (time-exceeded or destination-unreachable)
    /// quoting an egress probe, and returns true; returns false for every other packet. Allocation-free and lock-free.
    /// </summary>
    public bool TryRecord(ReadOnlySpan<byte> ipPacket, long nowMs)
    {
        if (!EgressAnswer.TryParse(ipPacket, nowMs, out var answer)) return false;
        Record(answer);
        return true;
    }

    /// <summary>Stores an already matched answer (same guarantees as <see cref="TryRecord"/>).</summary>
    public void Record(in EgressAnswer answer)
    {
        long n = Interlocked.Increment(ref _next) - 1;
        ref Slot s = ref _slots[(int)(n % _slots.Length)];
        int v = Volatile.Read(ref s.Version);
        if ((v & 1) != 0 || Interlocked.CompareExchange(ref s.Version, v + 1, v) != v)
        {
            Interlocked.Increment(ref _collisions);
            return;
        }
        s.Answer = answer;
        Volatile.Write(ref s.Version, v + 2);
        Interlocked.Increment(ref _recorded);
    }

    /// <summary>Answers belonging to <paramref name="session"/>, oldest first. Control plane: allocates.</summary>
    public List<EgressAnswer> GetAnswers(EgressSessionId session)
    {
        var all = Snapshot();
        all.RemoveAll(a => !a.BelongsTo(session));
        return all;
    }

    /// <summary>Every answer currently held, oldest first. Control plane: allocates.</summary>
    public List<EgressAnswer> Snapshot()
    {
        var list = new List<(long Order, EgressAnswer A)>();
        long next = Interlocked.Read(ref _next);
        long first = Math.Max(0, next - _slots.Length);
        for (long n = first; n < next; n++)
        {
            ref Slot s = ref _slots[(int)(n % _slots.Length)];
            for (int attempt = 0; attempt < 4; attempt++)
            {
                int v1 = Volatile.Read(ref s.Version);
                if (v1 == 0 || (v1 & 1) != 0) { Thread.SpinWait(8); continue; }
                EgressAnswer copy = s.Answer;
                Interlocked.MemoryBarrier();
                if (Volatile.Read(ref s.Version) != v1) continue;
                list.Add((n, copy));
                break;
            }
        }
        list.Sort((x, y) => x.Order.CompareTo(y.Order));
        return list.ConvertAll(x => x.A);
    }
}
