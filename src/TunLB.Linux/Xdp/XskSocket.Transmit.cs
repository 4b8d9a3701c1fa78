using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace TunLB.Linux.Xdp;

/// <summary>The transmit half: whole Ethernet frames copied into TX frames of the UMEM, one kick per batch.</summary>
public sealed unsafe partial class XskSocket
{
    /// <summary>Frames the kernel's copy-mode transmit (xsk_generic_xmit) takes per sendto: TX_BATCH_SIZE.</summary>
    internal const int CopyModeFramesPerKick = 32;

    private readonly ulong[] _txFree; // UMEM addresses of TX frames nobody uses (a stack)
    private int _txFreeCount;
    private uint _txProd, _txPublished, _compCons;

    // Counters (single writer).
    public long TxQueued;       // frames put into the TX ring
    public long TxCompleted;    // frames the kernel reported sent (completion ring)
    public long TxKicks;        // sendto calls
    public long TxNoFrame;      // Send found every TX frame in flight (caller should Flush, or the device is slower)
    public long TxTooBig;       // frame larger than a UMEM frame
    public long TxKickErrors;   // sendto failures other than "busy, try again"

    /// <summary>The largest frame <see cref="Send(ReadOnlySpan{byte})"/> takes.</summary>
    public const int MaxFrameLength = FrameSize;

    /// <summary>TX frames queued by <see cref="Send(ReadOnlySpan{byte})"/> and not yet handed over by <see cref="Flush"/>.</summary>
    public int Pending => (int)(_txProd - _txPublished);

    /// <summary>
    /// Queues one Ethernet frame (destination and source MAC, EtherType, payload; no FCS). Nothing leaves until
    /// <see cref="Flush"/>. False when the frame is too big or every TX frame is in flight (counted).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Send(ReadOnlySpan<byte> frame) => Send(frame, default);

    /// <summary>
    /// Queues one Ethernet frame made of <paramref name="linkHeader"/> (e.g. the 14-byte header for a resolved next hop)
    /// followed by <paramref name="packet"/>, written straight into the UMEM frame. As <see cref="Send(ReadOnlySpan{byte})"/>.
    /// </summary>
    public bool Send(ReadOnlySpan<byte> linkHeader, ReadOnlySpan<byte> packet)
    {
        int length = linkHeader.Length + packet.Length;
        if (length > MaxFrameLength || length == 0) { TxTooBig++; return false; }
        if (!_fd.TryAcquire(out _)) { _lastError = Interop.EBADF; return false; } // the UMEM stays mapped while we hold it
        try { return Queue(linkHeader, packet, length); }
        finally { _fd.Release(); }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool Queue(ReadOnlySpan<byte> linkHeader, ReadOnlySpan<byte> packet, int length)
    {
        if (_txFreeCount == 0 && Reclaim() == 0) { TxNoFrame++; return false; }
        ulong addr = _txFree[--_txFreeCount];
        // TX frames never outnumber TX ring slots, so holding a free frame means there is a free slot.
        byte* frame = _umem + addr;
        linkHeader.CopyTo(new Span<byte>(frame, linkHeader.Length));
        packet.CopyTo(new Span<byte>(frame + linkHeader.Length, packet.Length));
        var d = (Interop.xdp_desc*)_tx.Descs + (_txProd & _tx.Mask);
        d->addr = addr;
        d->len = (uint)length;
        d->options = 0;
        _txProd++;
        TxQueued++;
        return true;
    }

    /// <summary>
    /// Hands the queued frames to the kernel (one release write of the TX producer) and kicks it with sendto when it
    /// needs that: always in copy mode, where frames leave only inside sendto (at most 32 per call, so a batch of n
    /// costs ceil(n / 32) calls), and in zero-copy mode only when the driver set XDP_RING_NEED_WAKEUP. Then reclaims
    /// completed frames. False when a kick failed for another reason than "busy" (errno in <see cref="LastError"/>);
    /// the frames stay queued in the ring and go with the next kick.
    /// </summary>
    public bool Flush()
    {
        if (!_fd.TryAcquire(out int fd)) { _lastError = Interop.EBADF; return false; }
        try
        {
            bool ok = true;
            if (_txProd != _txPublished)
            {
                Volatile.Write(ref *_tx.Producer, _txProd); // release: descriptors and frames are written before this
                _txPublished = _txProd;
            }
            if (ZeroCopy ? _tx.NeedsWakeup() : Volatile.Read(ref *_tx.Consumer) != _txProd)
                ok = Kick(fd);
            Reclaim();
            return ok;
        }
        finally { _fd.Release(); }
    }

    private bool Kick(int fd)
    {
        // Copy mode: each call sends up to 32 and returns EAGAIN while more are left; bounded by the ring.
        for (int attempts = (int)(_tx.Size / CopyModeFramesPerKick) + 1; attempts > 0; attempts--)
        {
            TxKicks++;
            nint r = Interop.sendto(fd, null, 0, Interop.MSG_DONTWAIT, null, 0);
            int e = r < 0 ? Marshal.GetLastPInvokeError() : 0;
            if (e != 0 && e is not (Interop.EAGAIN or Interop.EBUSY or Interop.ENOBUFS))
            {
                _lastError = e;
                TxKickErrors++;
                return false;
            }
            if (ZeroCopy || Volatile.Read(ref *_tx.Consumer) == _txProd) return true;
            if (e == Interop.ENOBUFS) return true; // the device queue is full: the rest goes with the next kick
        }
        return true;
    }

    /// <summary>Takes completed TX frames back from the completion ring; returns how many.</summary>
    private int Reclaim()
    {
        uint prod = Volatile.Read(ref *_comp.Producer); // acquire
        uint n = prod - _compCons;
        if (n == 0) return 0;
        var addrs = (ulong*)_comp.Descs;
        for (uint i = 0; i < n; i++) _txFree[_txFreeCount++] = addrs[(_compCons + i) & _comp.Mask] & _frameMask;
        _compCons = prod;
        Volatile.Write(ref *_comp.Consumer, prod); // release
        TxCompleted += n;
        return (int)n;
    }
}
