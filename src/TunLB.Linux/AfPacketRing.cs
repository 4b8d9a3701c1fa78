using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TunLB.Core.Egress;
using TunLB.Core.Flows;
using TunLB.Core.Packets;

namespace TunLB.Linux;

/// <summary>
/// An <see cref="IPacketPort"/> over an AF_PACKET socket with a TPACKET_V3 receive ring: the kernel copies each frame
/// that passes the socket's classic BPF filter into a memory-mapped ring of blocks, and <see cref="Receive"/> walks the
/// blocks in user space, one system call per block at most (none while frames are ready).
/// </summary>
/// <remarks>
/// <para>The socket is SOCK_RAW bound to ETH_P_ALL (one ring sees IPv4, IPv6, and outgoing frames, which SOCK_DGRAM
/// sockets bound to one protocol do not), with PACKET_VNET_HDR, which the kernel fills only for SOCK_RAW: each frame
/// is preceded by a struct virtio_net_hdr that tells whether the skb is a GSO/GRO super-packet and its gso_size.
/// <see cref="Receive"/> skips the link header with the frame's tp_net, so callers get IP packets as from a TUN device.</para>
/// <para>Offloads are undone here, before the engine: a frame with TP_STATUS_CSUMNOTREADY (CHECKSUM_PARTIAL, e.g. from
/// a local sender through veth) gets its full TCP/UDP checksum; a TCP super-packet is returned as MSS-sized segments,
/// one per call (<see cref="Offload.WriteTcpSegment"/>). UDP GSO and anything unfixable is dropped and counted.</para>
/// <para>Nothing on the receive path allocates, locks, logs or throws. Counters are plain fields written by the one
/// receiving thread and read loosely by others.</para>
/// </remarks>
public sealed unsafe class AfPacketRing : IPacketPort
{
    /// <summary>Default block size: holds a 64 KiB GSO frame with its headers several times over.</summary>
    public const int DefaultBlockSize = 1 << 18;
    /// <summary>Default block count (32 MiB of ring).</summary>
    public const int DefaultBlockCount = 128;
    /// <summary>Block retire timeout: a partly filled block is handed to user space after this long (latency at low load).</summary>
    public const int RetireTimeoutMs = 1;

    private readonly FileDescriptor _fd;
    private readonly byte* _ring;
    private readonly int _blockSize;
    private readonly int _blockCount;
    private int _lastError;

    // Walk state (receiving thread only).
    private int _block;          // current block index
    private bool _holding;       // the current block is ours (TP_STATUS_USER) and not yet returned
    private byte* _frame;        // next frame in the current block
    private int _framesLeft;     // frames left in the current block
    private byte* _gsoPacket;    // super-packet being segmented (points into the held block)
    private int _gsoLength, _gsoMss, _gsoNext, _gsoCount;

    // Counters (single writer).
    public long Frames;
    public long ChecksumsCompleted;
    public long SuperPackets;
    public long Segments;
    public long DroppedTruncated;    // frame longer than what the ring kept (tp_snaplen < tp_len) or than the caller's buffer
    public long DroppedMalformed;    // frame header inconsistent with the block, or IP packet unusable for its offload
    public long DroppedUnsupported;  // UDP GSO, or a CHECKSUM_PARTIAL packet the core cannot complete (IPv6 extension headers)

    private AfPacketRing(FileDescriptor fd, byte* ring, int blockSize, int blockCount, string name)
    {
        _fd = fd; _ring = ring; _blockSize = blockSize; _blockCount = blockCount; Name = name;
    }

    public string Name { get; }
    public int LastError => _lastError;
    public int BlockSize => _blockSize;
    public int BlockCount => _blockCount;

    /// <summary>
    /// Opens the socket and ring. <paramref name="filter"/> is attached before the socket is bound, so no unfiltered frame
    /// is ever queued. <paramref name="ifindex"/> 0 binds to all interfaces (the filter selects them). A non-negative
    /// <paramref name="fanoutGroup"/> joins that PACKET_FANOUT_HASH group (with DEFRAG), so several rings opened with the same
    /// group id share the traffic by flow hash, one ring per worker. Needs CAP_NET_RAW. Throws on failure.
    /// </summary>
    public static AfPacketRing Open(ReadOnlySpan<BpfInstruction> filter, int ifindex = 0, int fanoutGroup = -1,
                                    int blockSize = DefaultBlockSize, int blockCount = DefaultBlockCount)
    {
        if (filter.Length == 0 || filter.Length > ushort.MaxValue) throw new ArgumentException("empty or oversized BPF program", nameof(filter));
        if (blockSize < 1 << 16 || (blockSize & (blockSize - 1)) != 0) throw new ArgumentException("block size must be a power of two of at least 64 KiB", nameof(blockSize));
        if (blockCount < 2 || blockCount > 65536) throw new ArgumentOutOfRangeException(nameof(blockCount));
        if (fanoutGroup > ushort.MaxValue) throw new ArgumentOutOfRangeException(nameof(fanoutGroup), "fanout group ids are 16-bit");
        int fd = Interop.socket(Interop.AF_PACKET, Interop.SOCK_RAW | Interop.SOCK_NONBLOCK | Interop.SOCK_CLOEXEC, 0);
        if (fd < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw new NativeErrorException($"socket(AF_PACKET, SOCK_RAW){(errno == Interop.EPERM ? " (needs CAP_NET_RAW)" : "")}", errno);
        }
        byte* ring = null;
        nuint size = (nuint)blockSize * (nuint)blockCount;
        try
        {
            AttachFilter(fd, filter);
            int one = 1, v3 = Interop.TPACKET_V3;
            if (Interop.setsockopt(fd, Interop.SOL_PACKET, Interop.PACKET_VNET_HDR, &one, sizeof(int)) < 0)
                throw NativeErrorException.FromLastError("setsockopt PACKET_VNET_HDR");
            if (Interop.setsockopt(fd, Interop.SOL_PACKET, Interop.PACKET_VERSION, &v3, sizeof(int)) < 0)
                throw NativeErrorException.FromLastError("setsockopt PACKET_VERSION TPACKET_V3");
            const int frameSize = 2048; // only used by the kernel's consistency checks for V3 (frames are variable-length)
            Interop.tpacket_req3 req = new()
            {
                tp_block_size = (uint)blockSize,
                tp_block_nr = (uint)blockCount,
                tp_frame_size = frameSize,
                tp_frame_nr = (uint)(blockSize / frameSize * blockCount),
                tp_retire_blk_tov = RetireTimeoutMs,
            };
            if (Interop.setsockopt(fd, Interop.SOL_PACKET, Interop.PACKET_RX_RING, &req, (uint)sizeof(Interop.tpacket_req3)) < 0)
                throw NativeErrorException.FromLastError($"setsockopt PACKET_RX_RING ({blockCount} x {blockSize} bytes)");
            void* m = Interop.mmap(null, size, Interop.PROT_READ | Interop.PROT_WRITE, Interop.MAP_SHARED, fd, 0);
            if (m == Interop.MAP_FAILED) throw NativeErrorException.FromLastError($"mmap packet ring ({size} bytes)");
            ring = (byte*)m;
            Interop.sockaddr_ll sll = default;
            sll.sll_family = Interop.AF_PACKET;
            sll.sll_protocol = BinaryPrimitives.ReverseEndianness(Interop.ETH_P_ALL);
            sll.sll_ifindex = ifindex;
            if (Interop.bind(fd, &sll, (uint)sizeof(Interop.sockaddr_ll)) < 0)
                throw NativeErrorException.FromLastError($"bind AF_PACKET ifindex {ifindex}");
            if (fanoutGroup >= 0)
            {
                int arg = fanoutGroup | ((Interop.PACKET_FANOUT_HASH | Interop.PACKET_FANOUT_FLAG_DEFRAG) << 16);
                if (Interop.setsockopt(fd, Interop.SOL_PACKET, Interop.PACKET_FANOUT, &arg, sizeof(int)) < 0)
                    throw NativeErrorException.FromLastError($"setsockopt PACKET_FANOUT group {fanoutGroup}");
            }
        }
        catch
        {
            if (ring != null) Interop.munmap(ring, size);
            Interop.close(fd);
            throw;
        }
        byte* mapped = ring;
        FileDescriptor handle;
        try { handle = new FileDescriptor(fd, () => Interop.munmap(mapped, size)); } // closes fd itself on failure
        catch { Interop.munmap(ring, size); throw; }
        return new AfPacketRing(handle, ring, blockSize, blockCount,
            $"AF_PACKET TPACKET_V3 ring on {(ifindex == 0 ? "all interfaces" : $"ifindex {ifindex}")} ({blockCount} x {blockSize / 1024} KiB" +
            (fanoutGroup >= 0 ? $", fanout group {fanoutGroup}" : "") + ")");
    }

    /// <summary>Replaces the BPF filter (SO_ATTACH_FILTER swaps it atomically). Control plane; throws on failure.</summary>
    public void UpdateFilter(ReadOnlySpan<BpfInstruction> filter)
    {
        if (filter.Length == 0 || filter.Length > ushort.MaxValue) throw new ArgumentException("empty or oversized BPF program", nameof(filter));
        if (!_fd.TryAcquire(out int fd)) throw new ObjectDisposedException(Name);
        try { AttachFilter(fd, filter); }
        finally { _fd.Release(); }
    }

    /// <summary>The kernel's counters since the last call (PACKET_STATISTICS resets them): frames passed and dropped for lack of ring space.</summary>
    public (long Packets, long Drops) ReadKernelStatistics()
    {
        if (!_fd.TryAcquire(out int fd)) return (0, 0);
        try
        {
            Interop.tpacket_stats_v3 st = default;
            uint len = (uint)sizeof(Interop.tpacket_stats_v3);
            if (Interop.getsockopt(fd, Interop.SOL_PACKET, Interop.PACKET_STATISTICS, &st, &len) < 0) return (0, 0);
            return (st.tp_packets, st.tp_drops);
        }
        finally { _fd.Release(); }
    }

    private static void AttachFilter(int fd, ReadOnlySpan<BpfInstruction> filter)
    {
        fixed (BpfInstruction* prog = filter)
        {
            Interop.sock_fprog fprog = new() { len = (ushort)filter.Length, filter = prog };
            if (Interop.setsockopt(fd, Interop.SOL_SOCKET, Interop.SO_ATTACH_FILTER, &fprog, (uint)sizeof(Interop.sock_fprog)) < 0)
                throw NativeErrorException.FromLastError("setsockopt SO_ATTACH_FILTER");
        }
    }

    /// <summary>
    /// Copies the next IP packet (or the next segment of a super-packet) into <paramref name="buffer"/>. Polls, with the
    /// port's wake eventfd, only when no frame is ready. See <see cref="IPacketPort.Receive"/>.
    /// </summary>
    public int Receive(Span<byte> buffer, int timeoutMs)
    {
        if (!_fd.TryAcquire(out int fd)) return -1;
        try
        {
            bool polled = false;
            Interop.pollfd* fds = stackalloc Interop.pollfd[2];
            while (true)
            {
                int n = Next(buffer);
                if (n > 0) return n;
                if (polled || timeoutMs == 0) return 0;
                // Nothing ready: wait for the kernel to hand over a block (or for Dispose).
                fds[0].fd = fd; fds[0].events = Interop.POLLIN; fds[0].revents = 0;
                fds[1].fd = _fd.WakeFd; fds[1].events = Interop.POLLIN; fds[1].revents = 0;
                int r = Interop.poll(fds, 2, timeoutMs);
                if (r < 0)
                {
                    int e = Marshal.GetLastPInvokeError();
                    _lastError = e;
                    return e == Interop.EINTR || e == Interop.ENOMEM ? 0 : -1;
                }
                if (fds[1].revents != 0) return -1; // Dispose was called
                if ((fds[0].revents & Interop.POLLNVAL) != 0) { _lastError = Interop.EBADF; return -1; }
                if ((fds[0].revents & Interop.POLLERR) != 0) _lastError = Interop.EIO; // e.g. the device went away; keep walking
                polled = true;
            }
        }
        finally { _fd.Release(); }
    }

    /// <summary>The next packet from the ring into buffer, 0 when none is ready.</summary>
    private int Next(Span<byte> buffer)
    {
        while (true)
        {
            if (_gsoPacket != null)
            {
                int len = Offload.WriteTcpSegment(new ReadOnlySpan<byte>(_gsoPacket, _gsoLength), _gsoMss, _gsoNext, buffer);
                if (++_gsoNext >= _gsoCount) _gsoPacket = null;
                if (len > 0) { Segments++; return len; }
                DroppedTruncated++; // the caller's buffer cannot hold a segment
                continue;
            }
            if (_framesLeft > 0)
            {
                int n = TakeFrame(buffer);
                if (n > 0) return n;
                continue;
            }
            if (_holding)
            {
                // Done with every frame of this block: hand it back to the kernel, then look at the next one.
                var done = (Interop.tpacket_block_desc*)(_ring + (nuint)_block * (nuint)_blockSize);
                Volatile.Write(ref done->hdr.block_status, Interop.TP_STATUS_KERNEL);
                _holding = false;
                _block = _block + 1 == _blockCount ? 0 : _block + 1;
            }
            var bd = (Interop.tpacket_block_desc*)(_ring + (nuint)_block * (nuint)_blockSize);
            if ((Volatile.Read(ref bd->hdr.block_status) & Interop.TP_STATUS_USER) == 0) return 0;
            _holding = true;
            uint first = bd->hdr.offset_to_first_pkt;
            uint count = bd->hdr.num_pkts;
            if (first < (uint)sizeof(Interop.tpacket_block_desc) || first >= (uint)_blockSize) { DroppedMalformed += count; _framesLeft = 0; continue; }
            _frame = (byte*)bd + first;
            _framesLeft = (int)Math.Min(count, (uint)_blockSize);
        }
    }

    /// <summary>Consumes the frame at <see cref="_frame"/>: returns the packet length copied, or 0 when it was dropped or is being segmented.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int TakeFrame(Span<byte> buffer)
    {
        byte* blockStart = _ring + (nuint)_block * (nuint)_blockSize;
        byte* frame = _frame;
        var h = (Interop.tpacket3_hdr*)frame;
        _framesLeft--;
        Frames++;
        // Bounds: the header, the vnet header before the link header, and the captured bytes must lie inside the block.
        long frameOff = frame - blockStart;
        uint snap = h->tp_snaplen, len = h->tp_len, mac = h->tp_mac, net = h->tp_net, status = h->tp_status;
        if (frameOff + sizeof(Interop.tpacket3_hdr) > _blockSize || mac < sizeof(Interop.tpacket3_hdr) + sizeof(Interop.virtio_net_hdr) ||
            net < mac || net - mac > snap || frameOff + mac + snap > _blockSize)
        {
            DroppedMalformed++;
            _framesLeft = 0; // cannot trust the rest of the block's chain
            return 0;
        }
        uint next = h->tp_next_offset;
        if (_framesLeft > 0)
        {
            if (next < sizeof(Interop.tpacket3_hdr) || frameOff + next >= _blockSize) { DroppedMalformed += _framesLeft; _framesLeft = 0; }
            else _frame = frame + next;
        }
        if (snap < len) { DroppedTruncated++; return 0; }
        byte* ip = frame + net;
        int ipLen = (int)(snap - (net - mac));
        var vnet = (Interop.virtio_net_hdr*)(frame + mac - sizeof(Interop.virtio_net_hdr));
        byte gso = (byte)(vnet->gso_type & ~Interop.VIRTIO_NET_HDR_GSO_ECN);
        if (gso != Interop.VIRTIO_NET_HDR_GSO_NONE)
        {
            if (gso is not (Interop.VIRTIO_NET_HDR_GSO_TCPV4 or Interop.VIRTIO_NET_HDR_GSO_TCPV6)) { DroppedUnsupported++; return 0; }
            var packet = new ReadOnlySpan<byte>(ip, ipLen);
            int count = Offload.TcpSegmentCount(packet, vnet->gso_size);
            if (count == 0) { DroppedMalformed++; return 0; }
            SuperPackets++;
            _gsoPacket = ip; _gsoLength = ipLen; _gsoMss = vnet->gso_size; _gsoNext = 0; _gsoCount = count;
            return 0;
        }
        if (ipLen > buffer.Length) { DroppedTruncated++; return 0; }
        new ReadOnlySpan<byte>(ip, ipLen).CopyTo(buffer);
        if ((status & Interop.TP_STATUS_CSUMNOTREADY) != 0)
        {
            if (!Offload.CompleteChecksum(buffer.Slice(0, ipLen))) { DroppedUnsupported++; return 0; }
            ChecksumsCompleted++;
        }
        return ipLen;
    }

    /// <summary>Not supported: a capture port. Returns false with EOPNOTSUPP.</summary>
    public bool Send(ReadOnlySpan<byte> packet, in IpAddress nextHop) { _lastError = Interop.EOPNOTSUPP; return false; }

    /// <summary>Wakes a blocked Receive; the socket is closed and the ring unmapped when the last user has left.</summary>
    public void Dispose() => _fd.Close();

    public override string ToString() => Name;
}
