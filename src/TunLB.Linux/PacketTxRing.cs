using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace TunLB.Linux;

/// <summary>
/// An AF_PACKET transmit ring (PACKET_TX_RING, TPACKET_V2) bound to one Ethernet device: each frame (Ethernet header
/// and IP packet) is written into the next fixed-size slot of a memory-mapped ring and marked TP_STATUS_SEND_REQUEST;
/// <see cref="Flush"/> makes one <c>sendto(fd, NULL, 0, MSG_DONTWAIT)</c> for the whole batch, in which the kernel
/// builds an skb around each frame (the payload stays in the ring's pages) and hands it to the driver.
/// </summary>
/// <remarks>
/// <para>With PACKET_QDISC_BYPASS the frames skip the device's qdisc (and with it the taps: tcpdump on the sending
/// device does not see them; it does on the receiving side). PACKET_LOSS makes the kernel mark a frame it cannot
/// build TP_STATUS_WRONG_FORMAT and go on with the next instead of stopping the ring; such frames are counted in
/// <see cref="Rejected"/> when their slot comes round again.</para>
/// <para>A slot is ours again when the kernel has freed its skb (tpacket_destruct_skb sets TP_STATUS_AVAILABLE); on veth
/// that is when the receiving side is done with the packet. Slots are used in ring order, as the kernel walks them, so
/// when the next slot is still in flight the ring is full and <see cref="TryQueue"/> says no (the caller falls back
/// to sendmmsg).</para>
/// <para>The socket's protocol is 0: it never receives. Frame data starts at TPACKET_ALIGN(sizeof(tpacket2_hdr)) = 32,
/// where tpacket_snd reads it without PACKET_TX_HAS_OFF (tp_hdrlen minus sizeof(sockaddr_ll)).</para>
/// <para>PACKET_VNET_HDR: each frame starts with a struct virtio_net_hdr (no offload) whose hdr_len tells the kernel how
/// much to copy into the skb's linear area: the whole frame up to <see cref="LinearBytes"/>. Without it tpacket_snd
/// copies only the Ethernet header and points page fragments at the ring, and on veth the receiver's first
/// pskb_may_pull then reallocates the head of every packet: 64-byte tunnel packets cost the sender 1.1–1.9 µs that
/// way against 0.84–1.4 µs with the copy and 0.96–1.6 µs with sendmmsg (`bench/tx-cost/run`, modes 3, 4 and 1, same
/// rounds, loaded machine).</para>
/// </remarks>
public sealed unsafe class PacketTxRing : ILinkTransmitter
{
    /// <summary>Where a frame's data starts: TPACKET2_HDRLEN (52) minus sizeof(struct sockaddr_ll) (20).</summary>
    internal const int DataOffset = 32;
    /// <summary>Default slots: 2048 frames in flight before the ring is full (4 MiB with 2 KiB frames).</summary>
    public const int DefaultFrames = 2048;
    /// <summary>Smallest frame size: a 1500-byte MTU frame with its header fits in 2 KiB.</summary>
    public const int MinFrameSize = 2048;
    private const int EthernetHeaderLength = 14;
    private static readonly int VnetHeaderLength = sizeof(Interop.virtio_net_hdr);
    /// <summary>Bytes of a frame the kernel copies into the skb (headers of a large packet; all of a small one); the rest stays in the ring's pages.</summary>
    public const int LinearBytes = 256;

    private readonly FileDescriptor _fd;
    private readonly byte* _ring;
    private readonly int _frameSize, _frames, _maxFrame;
    private int _head, _pending;
    private bool _kickDue;
    private int _lastError;

    // Counters (single writer: the sending thread).
    public long Kicks;
    public long KickErrors;
    public long RingFull;
    public long TooBig;
    private long _queued, _rejected;

    private PacketTxRing(FileDescriptor fd, byte* ring, int ifindex, int frameSize, int frames, int mtu, string name)
    {
        _fd = fd; _ring = ring; IfIndex = ifindex; _frameSize = frameSize; _frames = frames; Name = name;
        _maxFrame = Math.Min(frameSize - DataOffset - VnetHeaderLength, mtu + EthernetHeaderLength);
    }

    public int IfIndex { get; }
    public string Name { get; }
    public string Kind => "tx ring";
    public int FrameSize => _frameSize;
    public int Frames => _frames;
    public int Pending => _pending;
    public long Queued => _queued;
    public long Rejected => _rejected;
    public int LastError => _lastError;

    /// <summary>The frame size for a device MTU: a power of two of at least <see cref="MinFrameSize"/> holding header, link header and MTU.</summary>
    public static int FrameSizeFor(int mtu)
    {
        int need = DataOffset + VnetHeaderLength + EthernetHeaderLength + Math.Max(mtu, 68);
        int size = MinFrameSize;
        while (size < need) size <<= 1;
        return size;
    }

    /// <summary>
    /// Opens the socket (SOCK_RAW, protocol 0), sets TPACKET_V2, PACKET_LOSS and PACKET_QDISC_BYPASS, creates and maps the
    /// ring and binds it to <paramref name="ifindex"/>. Frames larger than <paramref name="mtu"/> plus the Ethernet header
    /// are refused by <see cref="TryQueue"/>. <paramref name="frameSize"/> (default from the MTU) must be a multiple of 16
    /// that the kernel accepts. Needs CAP_NET_RAW. Throws with the kernel's errno when it refuses.
    /// </summary>
    public static PacketTxRing Open(int ifindex, int mtu, int frames = DefaultFrames, int frameSize = 0, bool qdiscBypass = true)
    {
        if (frameSize == 0) frameSize = FrameSizeFor(mtu);
        if (frames < 8 || frames > 1 << 20) throw new ArgumentOutOfRangeException(nameof(frames));
        // Blocks of at least a page, frames never across one: with power-of-two frames, frame i sits at i x frameSize.
        int blockSize = Math.Max(frameSize, 16384);
        int framesPerBlock = Math.Max(1, blockSize / Math.Max(frameSize, 1));
        int blocks = (frames + framesPerBlock - 1) / framesPerBlock;
        frames = blocks * framesPerBlock;
        int fd = Interop.socket(Interop.AF_PACKET, Interop.SOCK_RAW | Interop.SOCK_NONBLOCK | Interop.SOCK_CLOEXEC, 0);
        if (fd < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw new NativeErrorException($"socket(AF_PACKET, SOCK_RAW, 0){(errno == Interop.EPERM ? " (needs CAP_NET_RAW)" : "")}", errno);
        }
        byte* ring = null;
        nuint size = (nuint)blockSize * (nuint)blocks;
        try
        {
            int v2 = Interop.TPACKET_V2, one = 1;
            if (Interop.setsockopt(fd, Interop.SOL_PACKET, Interop.PACKET_VERSION, &v2, sizeof(int)) < 0)
                throw NativeErrorException.FromLastError("setsockopt PACKET_VERSION TPACKET_V2");
            if (Interop.setsockopt(fd, Interop.SOL_PACKET, Interop.PACKET_VNET_HDR, &one, sizeof(int)) < 0)
                throw NativeErrorException.FromLastError("setsockopt PACKET_VNET_HDR");
            if (Interop.setsockopt(fd, Interop.SOL_PACKET, Interop.PACKET_LOSS, &one, sizeof(int)) < 0)
                throw NativeErrorException.FromLastError("setsockopt PACKET_LOSS");
            // The kernel charges every frame in flight to the send buffer (sock_alloc_send_skb): without room for the whole
            // ring a kick stops early with EAGAIN while the receivers still hold earlier frames.
            int sndbuf = (int)Math.Min(int.MaxValue / 2, 2L * frames * frameSize);
            if (Interop.setsockopt(fd, Interop.SOL_SOCKET, Interop.SO_SNDBUFFORCE, &sndbuf, sizeof(int)) < 0)
                Interop.setsockopt(fd, Interop.SOL_SOCKET, Interop.SO_SNDBUF, &sndbuf, sizeof(int)); // best effort without CAP_NET_ADMIN
            if (qdiscBypass && Interop.setsockopt(fd, Interop.SOL_PACKET, Interop.PACKET_QDISC_BYPASS, &one, sizeof(int)) < 0)
                throw NativeErrorException.FromLastError("setsockopt PACKET_QDISC_BYPASS");
            Interop.tpacket_req req = new()
            {
                tp_block_size = (uint)blockSize,
                tp_block_nr = (uint)blocks,
                tp_frame_size = (uint)frameSize,
                tp_frame_nr = (uint)frames,
            };
            if (Interop.setsockopt(fd, Interop.SOL_PACKET, Interop.PACKET_TX_RING, &req, (uint)sizeof(Interop.tpacket_req)) < 0)
                throw NativeErrorException.FromLastError($"setsockopt PACKET_TX_RING ({blocks} x {blockSize} bytes, {frames} x {frameSize}-byte frames)");
            void* m = Interop.mmap(null, size, Interop.PROT_READ | Interop.PROT_WRITE, Interop.MAP_SHARED, fd, 0);
            if (m == Interop.MAP_FAILED) throw NativeErrorException.FromLastError($"mmap packet tx ring ({size} bytes)");
            ring = (byte*)m;
            Interop.sockaddr_ll sll = default;
            sll.sll_family = Interop.AF_PACKET;
            sll.sll_ifindex = ifindex; // protocol 0: bound to the device for sending, receives nothing
            if (Interop.bind(fd, &sll, (uint)sizeof(Interop.sockaddr_ll)) < 0)
                throw NativeErrorException.FromLastError($"bind AF_PACKET tx ring to ifindex {ifindex}");
        }
        catch
        {
            if (ring != null) Interop.munmap(ring, size);
            Interop.close(fd);
            throw;
        }
        var handle = FileDescriptor.WithMapping(fd, ring, size);
        return new PacketTxRing(handle, ring, ifindex, frameSize, frames, mtu,
            $"AF_PACKET TPACKET_V2 tx ring on ifindex {ifindex} ({frames} x {frameSize}-byte frames, vnet header{(qdiscBypass ? ", qdisc bypass" : "")})");
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryQueue(ReadOnlySpan<byte> linkHeader, ReadOnlySpan<byte> packet)
    {
        int length = linkHeader.Length + packet.Length;
        if (length > _maxFrame || length == 0) { TooBig++; return false; }
        if (!_fd.TryAcquire(out _)) { _lastError = Interop.EBADF; return false; } // the ring stays mapped while we hold it
        try
        {
            byte* frame = _ring + (nint)_head * _frameSize;
            var h = (Interop.tpacket2_hdr*)frame;
            uint status = Volatile.Read(ref h->tp_status); // acquire: the kernel is done with the slot before we write it
            if ((status & (Interop.TP_STATUS_SEND_REQUEST | Interop.TP_STATUS_SENDING)) != 0) { RingFull++; return false; }
            if ((status & Interop.TP_STATUS_WRONG_FORMAT) != 0) _rejected++;
            var vnet = (Interop.virtio_net_hdr*)(frame + DataOffset);
            *vnet = default;
            vnet->hdr_len = (ushort)Math.Min(length, LinearBytes);
            byte* data = frame + DataOffset + VnetHeaderLength;
            linkHeader.CopyTo(new Span<byte>(data, linkHeader.Length));
            packet.CopyTo(new Span<byte>(data + linkHeader.Length, packet.Length));
            h->tp_len = (uint)(VnetHeaderLength + length);
            Volatile.Write(ref h->tp_status, Interop.TP_STATUS_SEND_REQUEST); // release: the frame is written before this
            _head = _head + 1 == _frames ? 0 : _head + 1;
            _pending++;
            _queued++;
            _kickDue = true;
            return true;
        }
        finally { _fd.Release(); }
    }

    /// <summary>
    /// One sendto for everything queued. When the device is busy (ENOBUFS, EAGAIN) the frames stay marked and go with the
    /// next flush. False on another error (errno in <see cref="LastError"/>).
    /// </summary>
    public bool Flush()
    {
        if (!_kickDue) return true;
        if (!_fd.TryAcquire(out int fd)) { _lastError = Interop.EBADF; return false; }
        try
        {
            Kicks++;
            nint r = Interop.sendto(fd, null, 0, Interop.MSG_DONTWAIT, null, 0);
            _pending = 0;
            if (r >= 0) { _kickDue = false; return true; }
            int e = Marshal.GetLastPInvokeError();
            if (e is Interop.EAGAIN or Interop.ENOBUFS or Interop.EINTR) return true; // still due
            _lastError = e;
            KickErrors++;
            _kickDue = false;
            return false;
        }
        finally { _fd.Release(); }
    }

    /// <summary>Slots the kernel still holds (sending, or sent and not yet freed). Diagnostics and tests: walks the ring.</summary>
    public int InFlight()
    {
        if (!_fd.TryAcquire(out _)) return 0;
        try
        {
            int n = 0;
            for (int i = 0; i < _frames; i++)
                if ((Volatile.Read(ref ((Interop.tpacket2_hdr*)(_ring + (nint)i * _frameSize))->tp_status) &
                     (Interop.TP_STATUS_SEND_REQUEST | Interop.TP_STATUS_SENDING)) != 0) n++;
            return n;
        }
        finally { _fd.Release(); }
    }

    public void Dispose() => _fd.Close();

    public override string ToString() => Name;
}
