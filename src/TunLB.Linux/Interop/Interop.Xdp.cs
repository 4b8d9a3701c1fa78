using System.Runtime.InteropServices;

namespace TunLB.Linux;

/// <summary>AF_XDP sockets, &lt;linux/if_xdp.h&gt; (the kernel's Documentation/networking/af_xdp.rst).</summary>
internal static unsafe partial class Interop
{
    // <bits/socket.h>
    internal const int AF_XDP = 44;
    internal const int SOL_XDP = 283;

    // sxdp_flags
    internal const ushort XDP_SHARED_UMEM = 1 << 0;
    internal const ushort XDP_COPY = 1 << 1;
    internal const ushort XDP_ZEROCOPY = 1 << 2;
    internal const ushort XDP_USE_NEED_WAKEUP = 1 << 3;

    // Ring flags word
    internal const uint XDP_RING_NEED_WAKEUP = 1 << 0;

    // SOL_XDP socket options
    internal const int XDP_MMAP_OFFSETS = 1;
    internal const int XDP_RX_RING = 2;
    internal const int XDP_TX_RING = 3;
    internal const int XDP_UMEM_REG = 4;
    internal const int XDP_UMEM_FILL_RING = 5;
    internal const int XDP_UMEM_COMPLETION_RING = 6;
    internal const int XDP_STATISTICS = 7;
    internal const int XDP_OPTIONS = 8;
    internal const uint XDP_OPTIONS_ZEROCOPY = 1 << 0;

    // mmap offsets of the rings
    internal const long XDP_PGOFF_RX_RING = 0;
    internal const long XDP_PGOFF_TX_RING = 0x80000000;
    internal const long XDP_UMEM_PGOFF_FILL_RING = 0x100000000;
    internal const long XDP_UMEM_PGOFF_COMPLETION_RING = 0x180000000;

    /// <summary>XDP_PACKET_HEADROOM (&lt;linux/bpf.h&gt; has it only in-kernel): the kernel reserves it in front of each received frame.</summary>
    internal const int XDP_PACKET_HEADROOM = 256;

    /// <summary>struct sockaddr_xdp: bind target (device, queue) and mode flags.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct sockaddr_xdp
    {
        public ushort sxdp_family;
        public ushort sxdp_flags;
        public uint sxdp_ifindex;
        public uint sxdp_queue_id;
        public uint sxdp_shared_umem_fd;
    }

    /// <summary>struct xdp_ring_offset: where, in a ring's mapping, its producer/consumer indexes, descriptors and flags are.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct xdp_ring_offset
    {
        public ulong producer;
        public ulong consumer;
        public ulong desc;
        public ulong flags;
    }

    /// <summary>struct xdp_mmap_offsets (XDP_MMAP_OFFSETS): RX, TX, fill and completion rings.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct xdp_mmap_offsets
    {
        public xdp_ring_offset rx;
        public xdp_ring_offset tx;
        public xdp_ring_offset fr;
        public xdp_ring_offset cr;
    }

    /// <summary>struct xdp_umem_reg (XDP_UMEM_REG).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct xdp_umem_reg
    {
        public ulong addr;
        public ulong len;
        public uint chunk_size;
        public uint headroom;
        public uint flags;
    }

    /// <summary>struct xdp_statistics (XDP_STATISTICS).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct xdp_statistics
    {
        public ulong rx_dropped;
        public ulong rx_invalid_descs;
        public ulong tx_invalid_descs;
        public ulong rx_ring_full;
        public ulong rx_fill_ring_empty_descs;
        public ulong tx_ring_empty_descs;
    }

    /// <summary>struct xdp_options (XDP_OPTIONS): tells whether the bound socket runs zero-copy.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct xdp_options
    {
        public uint flags;
    }

    /// <summary>struct xdp_desc: an RX/TX ring entry; fill and completion rings hold bare __u64 UMEM addresses.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct xdp_desc
    {
        public ulong addr;
        public uint len;
        public uint options;
    }
}
