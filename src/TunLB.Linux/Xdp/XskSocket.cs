using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace TunLB.Linux.Xdp;

/// <summary>
/// An AF_XDP socket bound to one receive queue of a device, with its own UMEM shared by receive and transmit: the first
/// half of the frames circulates through the fill and RX rings, the second half through the TX and completion rings.
/// <see cref="Receive"/> returns one IP packet per call (the Ethernet header and at most one VLAN tag stripped, as
/// <see cref="AfPacketRing"/> returns them); <see cref="Send(ReadOnlySpan{byte})"/> queues whole Ethernet frames and
/// <see cref="Flush"/> hands the batch to the kernel with one sendto (copy mode sends at most 32 frames per call, so
/// it kicks once per 32).
/// </summary>
/// <remarks>
/// <para>One thread (the queue's worker) calls Receive, Send and Flush: each ring has a single producer and a single
/// consumer, so the indexes need only acquire reads and release writes. Nothing on those paths allocates, locks, logs
/// or throws; counters are plain fields written by that thread.</para>
/// <para>Frames go back to the fill ring as soon as their packet has been copied out, so the kernel always has
/// <see cref="RxFrames"/> minus the few in flight. Every ring is as large as its half of the UMEM, so a producer never
/// finds its ring full while it holds a frame.</para>
/// </remarks>
public sealed unsafe partial class XskSocket : IDisposable
{
    /// <summary>UMEM frame (chunk) size: a page; the kernel puts 256 bytes of XDP headroom in front of a received packet.</summary>
    public const int FrameSize = 4096;
    /// <summary>Default descriptors per ring (and frames per direction): 2048 x 4 KiB = 8 MiB each way.</summary>
    public const int DefaultRingSize = 2048;

    private readonly FileDescriptor _fd;

    /// <summary>The descriptor, for a port that polls several (<see cref="XdpPort"/>).</summary>
    internal FileDescriptor Handle => _fd;
    private readonly byte* _umem;
    private XskRing _rx, _fill, _tx, _comp;
    private readonly ulong _frameMask;
    private int _lastError;

    // Receive state (the worker only): our consumer index of RX, cached producer, our producer index of fill.
    private uint _rxCons, _rxProdSeen, _fillProd;

    // Counters (single writer).
    public long RxPackets;
    public long DroppedTruncated;   // packet larger than the caller's buffer
    public long DroppedMalformed;   // descriptor outside the UMEM, or shorter than its link header

    private XskSocket(FileDescriptor fd, byte* umem, XskRing rx, XskRing fill, XskRing tx, XskRing comp, int ringSize,
        int ifindex, int queueId, bool zeroCopy, string name)
    {
        _fd = fd; _umem = umem; _rx = rx; _fill = fill; _tx = tx; _comp = comp;
        _frameMask = ~(ulong)(FrameSize - 1);
        RingSize = ringSize; IfIndex = ifindex; QueueId = queueId; ZeroCopy = zeroCopy; Name = name;
        _txFree = new ulong[ringSize];
        for (int i = 0; i < ringSize; i++) _txFree[i] = (ulong)(ringSize + i) * FrameSize; // the second half of the UMEM
        _txFreeCount = ringSize;
        _fillProd = (uint)ringSize; // Open gave the first half to the fill ring
    }

    public string Name { get; }
    public int IfIndex { get; }
    public int QueueId { get; }
    /// <summary>Descriptors per ring; also the frames for each direction.</summary>
    public int RingSize { get; }
    public int RxFrames => RingSize;
    /// <summary>True when the driver runs the socket zero-copy (XDP_OPTIONS), false in copy mode (veth).</summary>
    public bool ZeroCopy { get; }
    public int LastError => _lastError;

    /// <summary>
    /// Creates the socket and UMEM, maps the four rings, gives the fill ring its frames and binds to queue
    /// <paramref name="queueId"/> of <paramref name="ifindex"/> with XDP_USE_NEED_WAKEUP. With a
    /// <paramref name="redirector"/>, the socket is put into its socket map, so the VIP traffic of that queue arrives here.
    /// Needs CAP_NET_RAW (and CAP_IPC_LOCK or enough RLIMIT_MEMLOCK for the UMEM). Throws on failure.
    /// </summary>
    public static XskSocket Open(int ifindex, int queueId, XdpVipRedirector? redirector = null,
                                 XskBindMode mode = XskBindMode.Auto, int ringSize = DefaultRingSize)
    {
        if (ringSize < 64 || ringSize > 1 << 16 || (ringSize & (ringSize - 1)) != 0)
            throw new ArgumentOutOfRangeException(nameof(ringSize), "a power of two from 64 to 65536");
        ArgumentOutOfRangeException.ThrowIfNegative(queueId);
        int fd = Interop.socket(Interop.AF_XDP, Interop.SOCK_RAW | Interop.SOCK_CLOEXEC, 0);
        if (fd < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw new NativeErrorException($"socket(AF_XDP){(errno == Interop.EPERM ? " (needs CAP_NET_RAW)" : "")}", errno);
        }
        nuint umemSize = (nuint)ringSize * 2 * FrameSize;
        byte* umem = null;
        XskRing rx = default, fill = default, tx = default, comp = default;
        try
        {
            void* m = Interop.mmap(null, umemSize, Interop.PROT_READ | Interop.PROT_WRITE,
                Interop.MAP_PRIVATE | Interop.MAP_ANONYMOUS | Interop.MAP_POPULATE, -1, 0);
            if (m == Interop.MAP_FAILED) throw NativeErrorException.FromLastError($"mmap UMEM ({umemSize} bytes)");
            umem = (byte*)m;
            Interop.xdp_umem_reg reg = new() { addr = (ulong)umem, len = umemSize, chunk_size = FrameSize, headroom = 0 };
            SetOption(fd, Interop.XDP_UMEM_REG, &reg, sizeof(Interop.xdp_umem_reg), "XDP_UMEM_REG");
            int size = ringSize;
            SetOption(fd, Interop.XDP_UMEM_FILL_RING, &size, sizeof(int), "XDP_UMEM_FILL_RING");
            SetOption(fd, Interop.XDP_UMEM_COMPLETION_RING, &size, sizeof(int), "XDP_UMEM_COMPLETION_RING");
            SetOption(fd, Interop.XDP_RX_RING, &size, sizeof(int), "XDP_RX_RING");
            SetOption(fd, Interop.XDP_TX_RING, &size, sizeof(int), "XDP_TX_RING");
            Interop.xdp_mmap_offsets off = default;
            uint len = (uint)sizeof(Interop.xdp_mmap_offsets);
            if (Interop.getsockopt(fd, Interop.SOL_XDP, Interop.XDP_MMAP_OFFSETS, &off, &len) < 0)
                throw NativeErrorException.FromLastError("getsockopt XDP_MMAP_OFFSETS");
            if (len != sizeof(Interop.xdp_mmap_offsets))
                throw new NativeErrorException($"getsockopt XDP_MMAP_OFFSETS returned {len} bytes (a kernel older than 5.4 has no ring flags)", Interop.EINVAL);
            uint n = (uint)ringSize;
            rx = XskRing.Map(fd, Interop.XDP_PGOFF_RX_RING, off.rx, n, sizeof(Interop.xdp_desc), "RX");
            tx = XskRing.Map(fd, Interop.XDP_PGOFF_TX_RING, off.tx, n, sizeof(Interop.xdp_desc), "TX");
            fill = XskRing.Map(fd, Interop.XDP_UMEM_PGOFF_FILL_RING, off.fr, n, sizeof(ulong), "fill");
            comp = XskRing.Map(fd, Interop.XDP_UMEM_PGOFF_COMPLETION_RING, off.cr, n, sizeof(ulong), "completion");

            // The first half of the UMEM is for receiving: all of it to the kernel before the bind.
            for (uint i = 0; i < n; i++) ((ulong*)fill.Descs)[i] = (ulong)i * FrameSize;
            Volatile.Write(ref *fill.Producer, n);

            Interop.sockaddr_xdp sxdp = new()
            {
                sxdp_family = Interop.AF_XDP,
                sxdp_flags = (ushort)(Interop.XDP_USE_NEED_WAKEUP | mode switch
                {
                    XskBindMode.Copy => Interop.XDP_COPY,
                    XskBindMode.ZeroCopy => Interop.XDP_ZEROCOPY,
                    _ => 0,
                }),
                sxdp_ifindex = (uint)ifindex,
                sxdp_queue_id = (uint)queueId,
            };
            Bind(fd, &sxdp, mode);
            Interop.xdp_options opts = default;
            len = (uint)sizeof(Interop.xdp_options);
            bool zeroCopy = Interop.getsockopt(fd, Interop.SOL_XDP, Interop.XDP_OPTIONS, &opts, &len) == 0
                            && (opts.flags & Interop.XDP_OPTIONS_ZEROCOPY) != 0;
            redirector?.RegisterSocket(queueId, fd);

            byte* mem = umem;
            XskRing r = rx, f = fill, t = tx, c = comp;
            int owned = fd;
            fd = -1; // FileDescriptor closes it itself if it fails; the catch below unmaps then
            var handle = new FileDescriptor(owned, () =>
            {
                r.Unmap(); f.Unmap(); t.Unmap(); c.Unmap();
                Interop.munmap(mem, umemSize);
            });
            return new XskSocket(handle, umem, rx, fill, tx, comp, ringSize, ifindex, queueId, zeroCopy,
                $"AF_XDP socket on ifindex {ifindex} queue {queueId} ({(zeroCopy ? "zero-copy" : "copy")} mode, {ringSize}-entry rings, " +
                $"{umemSize / (1024 * 1024)} MiB UMEM)");
        }
        catch
        {
            rx.Unmap(); tx.Unmap(); fill.Unmap(); comp.Unmap();
            if (umem != null) Interop.munmap(umem, umemSize);
            if (fd >= 0) Interop.close(fd);
            throw;
        }
    }

    /// <summary>How long bind retries EBUSY: a closed socket's pool leaves its queue in a kernel work item (xp_release_deferred), so a queue can be busy for a moment after its previous socket was closed.</summary>
    private const int BusyRetryMs = 1000;

    private static void Bind(int fd, Interop.sockaddr_xdp* sxdp, XskBindMode mode)
    {
        long deadline = Environment.TickCount64 + BusyRetryMs;
        while (Interop.bind(fd, sxdp, (uint)sizeof(Interop.sockaddr_xdp)) < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            if (errno != Interop.EBUSY || Environment.TickCount64 > deadline)
                throw new NativeErrorException($"bind AF_XDP ifindex {sxdp->sxdp_ifindex} queue {sxdp->sxdp_queue_id} ({mode} mode)" +
                    (errno == Interop.EBUSY ? " (another AF_XDP socket has that queue)" : ""), errno);
            Thread.Sleep(10);
        }
    }

    private static void SetOption(int fd, int option, void* value, int size, string name)
    {
        if (Interop.setsockopt(fd, Interop.SOL_XDP, option, value, (uint)size) < 0)
            throw NativeErrorException.FromLastError($"setsockopt SOL_XDP {name}");
    }

    /// <summary>
    /// Copies the next received IP packet into <paramref name="buffer"/>: its length, 0 when nothing arrived within
    /// <paramref name="timeoutMs"/> (-1: wait indefinitely), -1 once disposed or on a fatal poll error
    /// (<see cref="LastError"/>). Polls, with the wake eventfd, only when the RX ring is empty.
    /// </summary>
    public int Receive(Span<byte> buffer, int timeoutMs)
    {
        if (!_fd.TryAcquire(out int fd)) return -1;
        try
        {
            bool polled = false;
            while (true)
            {
                int n = Next(buffer);
                if (n > 0) return n;
                if (n < 0) continue; // dropped: look at the next one
                if (polled || timeoutMs == 0)
                {
                    // A driver that sleeps (zero-copy with need_wakeup) runs again only when asked; poll asks for us.
                    if (timeoutMs == 0 && _fill.NeedsWakeup()) Interop.recvfrom(fd, null, 0, Interop.MSG_DONTWAIT, null, null);
                    return 0;
                }
                if (PortIo.WaitReadable(fd, _fd.WakeFd, timeoutMs, ref _lastError) < 0) return -1;
                polled = true;
            }
        }
        finally { _fd.Release(); }
    }

    /// <summary>The next packet: its length, 0 when the RX ring is empty, -1 when the descriptor was dropped.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int Next(Span<byte> buffer)
    {
        uint cons = _rxCons;
        if (cons == _rxProdSeen)
        {
            _rxProdSeen = Volatile.Read(ref *_rx.Producer); // acquire: descriptors and frames are read after this
            if (cons == _rxProdSeen) return 0;
        }
        var d = (Interop.xdp_desc*)_rx.Descs + (cons & _rx.Mask);
        ulong addr = d->addr;
        uint len = d->len;
        int result = Copy(addr, len, buffer);
        _rxCons = cons + 1;
        Volatile.Write(ref *_rx.Consumer, cons + 1); // release: the slot is free again
        // The frame goes back to the kernel. The fill ring has a slot for every receive frame, so it cannot be full.
        ((ulong*)_fill.Descs)[_fillProd & _fill.Mask] = addr & _frameMask;
        Volatile.Write(ref *_fill.Producer, ++_fillProd);
        return result;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int Copy(ulong addr, uint len, Span<byte> buffer)
    {
        RxPackets++;
        ulong rxEnd = (ulong)RingSize * FrameSize;
        if (addr >= rxEnd || len > FrameSize || (addr & ~_frameMask) + len > FrameSize || len < XdpRedirectProgram.EthernetHeaderLength)
        {
            DroppedMalformed++;
            return -1;
        }
        byte* frame = _umem + addr;
        int l3 = XdpRedirectProgram.EthernetHeaderLength;
        ushort type = (ushort)(frame[12] << 8 | frame[13]);
        if (type is 0x8100 or 0x88A8) l3 += XdpRedirectProgram.VlanTagLength; // the program steers at most one tag
        int ipLen = (int)len - l3;
        if (ipLen <= 0) { DroppedMalformed++; return -1; }
        if (ipLen > buffer.Length) { DroppedTruncated++; return -1; }
        new ReadOnlySpan<byte>(frame + l3, ipLen).CopyTo(buffer);
        return ipLen;
    }

    /// <summary>The kernel's counters for this socket (XDP_STATISTICS; cumulative). Zeros once disposed.</summary>
    public XskStatistics ReadKernelStatistics()
    {
        if (!_fd.TryAcquire(out int fd)) return default;
        try
        {
            Interop.xdp_statistics st = default;
            uint len = (uint)sizeof(Interop.xdp_statistics);
            if (Interop.getsockopt(fd, Interop.SOL_XDP, Interop.XDP_STATISTICS, &st, &len) < 0) return default;
            return new XskStatistics((long)st.rx_dropped, (long)st.rx_invalid_descs, (long)st.tx_invalid_descs,
                (long)st.rx_ring_full, (long)st.rx_fill_ring_empty_descs, (long)st.tx_ring_empty_descs);
        }
        finally { _fd.Release(); }
    }

    /// <summary>Wakes a blocked Receive; the socket is closed and its rings and UMEM unmapped when the last user has left.
    /// Closing the socket also removes it from the redirector's socket map.</summary>
    public void Dispose() => _fd.Close();

    public override string ToString() => Name;
}
