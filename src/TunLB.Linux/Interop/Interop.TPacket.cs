using System.Runtime.InteropServices;

namespace TunLB.Linux;

/// <summary>The TPACKET_V2 receive and transmit rings of &lt;linux/if_packet.h&gt; (see the kernel's Documentation/networking/packet_mmap.rst).</summary>
internal static unsafe partial class Interop
{
    // <linux/socket.h>
    internal const int SOL_PACKET = 263;

    // <linux/if_ether.h>
    internal const ushort ETH_P_ALL = 0x0003;
    internal const ushort ETH_P_IPV6 = 0x86DD;

    // <linux/if_packet.h> socket options
    internal const int PACKET_RX_RING = 5;
    internal const int PACKET_STATISTICS = 6;
    internal const int PACKET_VERSION = 10;
    internal const int PACKET_VNET_HDR = 15;
    internal const int PACKET_TX_RING = 13;
    internal const int PACKET_LOSS = 14;
    internal const int PACKET_FANOUT = 18;
    internal const int PACKET_QDISC_BYPASS = 20;
    internal const int TPACKET_V2 = 1;
    internal const int PACKET_FANOUT_HASH = 0;
    internal const int PACKET_FANOUT_FLAG_DEFRAG = 0x8000;

    // <linux/if_packet.h> tp_status bits
    internal const uint TP_STATUS_KERNEL = 0;
    internal const uint TP_STATUS_USER = 1 << 0;
    internal const uint TP_STATUS_LOSING = 1 << 2;
    internal const uint TP_STATUS_CSUMNOTREADY = 1 << 3;
    internal const uint TP_STATUS_CSUM_VALID = 1 << 7;
    internal const int TPACKET_ALIGNMENT = 16;

    // <linux/if_packet.h> tp_status values of a transmit frame
    internal const uint TP_STATUS_AVAILABLE = 0;
    internal const uint TP_STATUS_SEND_REQUEST = 1 << 0;
    internal const uint TP_STATUS_SENDING = 1 << 1;
    internal const uint TP_STATUS_WRONG_FORMAT = 1 << 2;

    /// <summary>struct tpacket_req: the PACKET_RX_RING request for TPACKET_V1/V2 (fixed-size frames, none across a block).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct tpacket_req
    {
        public uint tp_block_size;
        public uint tp_block_nr;
        public uint tp_frame_size;
        public uint tp_frame_nr;
    }

    /// <summary>struct tpacket2_hdr: the header at the start of each TPACKET_V2 frame; tp_status hands the frame over.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct tpacket2_hdr
    {
        public uint tp_status;
        public uint tp_len;
        public uint tp_snaplen;
        public ushort tp_mac;
        public ushort tp_net;
        public uint tp_sec;
        public uint tp_nsec;
        public ushort tp_vlan_tci;
        public ushort tp_vlan_tpid;
        public fixed byte tp_padding[4];
    }

    /// <summary>struct tpacket_stats (PACKET_STATISTICS on a TPACKET_V1/V2 socket; reading resets it).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct tpacket_stats
    {
        public uint tp_packets;
        public uint tp_drops;
    }
}
