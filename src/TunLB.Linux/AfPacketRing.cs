using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TunLB.Core.Egress;
using TunLB.Core.Flows;
using TunLB.Core.Packets;

namespace TunLB.Linux;

/// <summary>
/// An <see cref="IPacketReceiver"/> over an AF_PACKET socket with a TPACKET_V2 receive ring: the kernel copies each frame
/// that passes the socket's classic BPF filter into the next fixed-size slot of a memory-mapped ring, marks the slot
/// TP_STATUS_USER and wakes the reader at once; <see cref="Receive"/> walks the slots in user space and makes a system
/// call (poll) only when the next slot is not ready.
/// </summary>
/// <remarks>
/// <para>TPACKET_V2 rather than V3: V3 packs frames into blocks and wakes the reader only when a block is retired (full,
/// or by its retire timer, which the kernel rounds up to a jiffy), so at low load every packet waited milliseconds.
/// V2's tpacket_rcv sets each frame's status and calls sk_data_ready per frame.</para>
/// <para>Frames are fixed-size: <see cref="FrameSize"/> (68 KiB) holds a 64 KiB GSO super-packet with the frame header,
/// sockaddr_ll, virtio_net_hdr and link header (at most 76 + 14 + 65535 bytes for Ethernet). The kernel allocates each
/// block as a power-of-two run of pages (get_order of the block size), so a block is a power of two holding several
/// frames: by default 1 MiB blocks of 15 frames (4 KiB unused each), 64 blocks, 960 frames, 64 MiB per ring. Frames
/// never cross a block; frame i is at block i / 15, offset (i % 15) x 68 KiB.</para>
/// <para>The socket is SOCK_RAW bound to ETH_P_ALL (one ring sees IPv4, IPv6, and outgoing frames, which SOCK_DGRAM
/// sockets bound to one protocol do not), with PACKET_VNET_HDR, which the kernel fills only for SOCK_RAW: each frame
/// is preceded by a struct virtio_net_hdr that tells whether the skb is a GSO/GRO super-packet and its gso_size.
/// <see cref="Receive"/> skips the link header with the frame's tp_net, so callers get IP packets as from a TUN device.</para>
/// <para>Offloads are undone here, before the engine: a frame with TP_STATUS_CSUMNOTREADY (CHECKSUM_PARTIAL, e.g. from
/// a local sender through veth) gets its full TCP/UDP checksum; a TCP super-packet is returned as MSS-sized segments,
/// one per call (<see cref="Offload.WriteTcpSegment"/>), and its frame is handed back after the last one. UDP GSO and
/// anything unfixable is dropped and counted.</para>
/// <para>Nothing on the receive path allocates, locks, logs or throws. tp_status is read with acquire semantics before
/// the frame, and written back (TP_STATUS_KERNEL) with release semantics after the copy. Counters are plain fields
/// written by the one receiving thread and read loosely by others.</para>
/// </remarks>
public sealed unsafe class AfPacketRing : IPacketReceiver
{
    /// <summary>
    /// Frame size (68 KiB): the largest frame the kernel writes for Ethernet is tp_mac (76: TPACKET2_HDRLEN 52 plus the
    /// link header, aligned to 16, plus the 10-byte virtio_net_hdr, minus the link header) + 14 + 65535 = 65625 bytes.
    /// Larger frames (BIG TCP) are truncated by the kernel and dropped here (<see cref="DroppedTruncated"/>).
    /// </summary>
    public const int FrameSize = 68 * 1024;
    /// <summary>Default block size: 1 MiB, 15 frames (the kernel allocates power-of-two blocks, so a 68 KiB block would take 128 KiB).</summary>
    public const int DefaultBlockSize = 1 << 20;
    /// <summary>Default block count: 64 MiB of ring, 960 frames (a worker descheduled for 2 ms at 500,000 packets/s loses nothing).</summary>
    public const int DefaultBlockCount = 64;
    /// <summary>TPACKET2_HDRLEN: tpacket2_hdr aligned to 16, then the sockaddr_ll the kernel writes after it.</summary>
    internal const int FrameHeaderLength = 52;

    private readonly FileDescriptor _fd;
    private readonly byte* _ring;
    private readonly int _blockSize;
    private readonly int _blockCount;
    private readonly int _framesPerBlock;
    private readonly int _frameCount;
    private int _lastError;

    // Walk state (receiving thread only).
    private int _index;          // next frame (slot) to look at, in the kernel's order
    private byte* _gsoPacket;    // super-packet being segmented (points into frame _index, which is ours until the last segment)
    private int _gsoLength, _gsoMss, _gsoNext, _gsoCount;

    // Counters (single writer).
    public long Frames;
    public long ChecksumsCompleted;
    public long SuperPackets;
    public long Segments;
    public long DroppedTruncated;    // frame longer than what the ring kept (tp_snaplen < tp_len) or than the caller's buffer
    public long DroppedMalformed;    // frame header inconsistent with the frame, or IP packet unusable for its offload
    public long DroppedUnsupported;  // UDP GSO, or a CHECKSUM_PARTIAL packet the core cannot complete (IPv6 extension headers)

    private AfPacketRing(FileDescriptor fd, byte* ring, int blockSize, int blockCount, string name)
    {
        _fd = fd; _ring = ring; _blockSize = blockSize; _blockCount = blockCount; Name = name;
        _framesPerBlock = blockSize / FrameSize;
        _frameCount = _framesPerBlock * blockCount;
    }

    public string Name { get; }
    public int LastError => _lastError;
    public int BlockSize => _blockSize;
    public int BlockCount => _blockCount;
    /// <summary>Frames (slots) in the ring: packets it can hold before the kernel drops (kernel_ring_full).</summary>
    public int FrameCount => _frameCount;

    /// <summary>
    /// Opens the socket and ring. <paramref name="filter"/> is attached before the socket is bound, so no unfiltered frame
    /// is ever queued. <paramref name="ifindex"/> 0 binds to all interfaces (the filter selects them). A non-negative
    /// <paramref name="fanoutGroup"/> joins that PACKET_FANOUT_HASH group (with DEFRAG), so several rings opened with the same
    /// group id share the traffic by flow hash, one ring per worker. <paramref name="blockSize"/> is a power of two of at
    /// least 128 KiB (it holds blockSize / <see cref="FrameSize"/> frames). Needs CAP_NET_RAW. Throws on failure.
    /// </summary>
    public static AfPacketRing Open(ReadOnlySpan<BpfInstruction> filter, int ifindex = 0, int fanoutGroup = -1,
                                    int blockSize = DefaultBlockSize, int blockCount = DefaultBlockCount)
    {
        if (filter.Length == 0 || filter.Length > ushort.MaxValue) throw new ArgumentException("empty or oversized BPF program", nameof(filter));
        if (blockSize < FrameSize || (blockSize & (blockSize - 1)) != 0 || blockSize > 1 << 30)
            throw new ArgumentException($"block size must be a power of two of at least {FrameSize} bytes (one frame)", nameof(blockSize));
        if (blockCount < 1 || blockCount > 65536) throw new ArgumentOutOfRangeException(nameof(blockCount));
        if (fanoutGroup > ushort.MaxValue) throw new ArgumentOutOfRangeException(nameof(fanoutGroup), "fanout group ids are 16-bit");
        int framesPerBlock = blockSize / FrameSize;
        if ((long)framesPerBlock * blockCount < 2 || (long)blockSize * blockCount > 1L << 32)
            throw new ArgumentOutOfRangeException(nameof(blockCount), "the ring needs at least 2 frames and at most 4 GiB");
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
            int one = 1, v2 = Interop.TPACKET_V2;
            if (Interop.setsockopt(fd, Interop.SOL_PACKET, Interop.PACKET_VNET_HDR, &one, sizeof(int)) < 0)
                throw NativeErrorException.FromLastError("setsockopt PACKET_VNET_HDR");
            if (Interop.setsockopt(fd, Interop.SOL_PACKET, Interop.PACKET_VERSION, &v2, sizeof(int)) < 0)
                throw NativeErrorException.FromLastError("setsockopt PACKET_VERSION TPACKET_V2");
            Interop.tpacket_req req = new()
            {
                tp_block_size = (uint)blockSize,
                tp_block_nr = (uint)blockCount,
                tp_frame_size = FrameSize,
                tp_frame_nr = (uint)(framesPerBlock * blockCount),
            };
            if (Interop.setsockopt(fd, Interop.SOL_PACKET, Interop.PACKET_RX_RING, &req, (uint)sizeof(Interop.tpacket_req)) < 0)
                throw NativeErrorException.FromLastError($"setsockopt PACKET_RX_RING ({blockCount} x {blockSize} bytes, {req.tp_frame_nr} x {FrameSize}-byte frames)");
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
        var handle = FileDescriptor.WithMapping(fd, ring, size);
        return new AfPacketRing(handle, ring, blockSize, blockCount,
            $"AF_PACKET TPACKET_V2 ring on {(ifindex == 0 ? "all interfaces" : $"ifindex {ifindex}")} ({framesPerBlock * blockCount} x {FrameSize / 1024} KiB frames, " +
            $"{size / (1024 * 1024)} MiB" + (fanoutGroup >= 0 ? $", fanout group {fanoutGroup}" : "") + ")");
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
            Interop.tpacket_stats st = default;
            uint len = (uint)sizeof(Interop.tpacket_stats);
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
    /// port's wake eventfd, only when no frame is ready. See <see cref="IPacketReceiver.Receive"/>.
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
                if (polled || timeoutMs == 0) return 0;
                // Nothing ready: wait for the kernel to hand over a frame (or for Dispose).
                if (PortIo.WaitReadable(fd, _fd.WakeFd, timeoutMs, ref _lastError) < 0) return -1;
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
                if (++_gsoNext >= _gsoCount) { _gsoPacket = null; ReleaseFrame(); } // the last segment is in buffer: the frame can go back
                if (len > 0) { Segments++; return len; }
                DroppedTruncated++; // the caller's buffer cannot hold a segment
                continue;
            }
            var h = (Interop.tpacket2_hdr*)FrameAt(_index);
            uint status = Volatile.Read(ref h->tp_status); // acquire: the frame's contents are read after this
            if ((status & Interop.TP_STATUS_USER) == 0) return 0;
            int n = TakeFrame((byte*)h, status, buffer);
            if (_gsoPacket == null) ReleaseFrame(); // copied or dropped; a super-packet keeps its frame until its last segment
            if (n > 0) return n;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private byte* FrameAt(int index)
    {
        int block = index / _framesPerBlock;
        return _ring + (nuint)block * (nuint)_blockSize + (nuint)(index - block * _framesPerBlock) * FrameSize;
    }

    /// <summary>Hands frame <see cref="_index"/> back to the kernel (release: after every read of it) and moves on.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void ReleaseFrame()
    {
        var h = (Interop.tpacket2_hdr*)FrameAt(_index);
        Volatile.Write(ref h->tp_status, Interop.TP_STATUS_KERNEL);
        _index = _index + 1 == _frameCount ? 0 : _index + 1;
    }

    /// <summary>
    /// Consumes the frame at <paramref name="frame"/>: returns the packet length copied, or 0 when it was dropped or a
    /// super-packet's segmentation was started (then <see cref="_gsoPacket"/> points into the frame).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int TakeFrame(byte* frame, uint status, Span<byte> buffer)
    {
        var h = (Interop.tpacket2_hdr*)frame;
        Frames++;
        // Bounds: the vnet header lies between the frame header and the link header, and the captured bytes inside the frame.
        uint snap = h->tp_snaplen, len = h->tp_len, mac = h->tp_mac, net = h->tp_net;
        if (mac < FrameHeaderLength + sizeof(Interop.virtio_net_hdr) || net < mac || net - mac > snap || (ulong)mac + snap > FrameSize)
        {
            DroppedMalformed++;
            return 0;
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

    /// <summary>Wakes a blocked Receive; the socket is closed and the ring unmapped when the last user has left.</summary>
    public void Dispose() => _fd.Close();

    public override string ToString() => Name;
}
