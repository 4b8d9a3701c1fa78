using System.Runtime.InteropServices;

namespace TunLB.Linux;

internal static partial class Interop
{
    // <linux/virtio_net.h>
    internal const byte VIRTIO_NET_HDR_F_NEEDS_CSUM = 1;
    internal const byte VIRTIO_NET_HDR_GSO_NONE = 0;
    internal const byte VIRTIO_NET_HDR_GSO_TCPV4 = 1;
    internal const byte VIRTIO_NET_HDR_GSO_UDP = 3;
    internal const byte VIRTIO_NET_HDR_GSO_TCPV6 = 4;
    internal const byte VIRTIO_NET_HDR_GSO_ECN = 0x80;

    /// <summary>
    /// struct virtio_net_hdr: with PACKET_VNET_HDR the kernel writes one in front of each frame's link header (SOCK_RAW
    /// only). Fields are in host byte order on little-endian hosts (the kernel's vio_le()).
    /// </summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct virtio_net_hdr
    {
        public byte flags;
        public byte gso_type;
        public ushort hdr_len;
        public ushort gso_size;
        public ushort csum_start;
        public ushort csum_offset;
    }
}
