using System.Runtime.InteropServices;

namespace TunLB.Linux;

/// <summary>The TPACKET_V3 receive ring of &lt;linux/if_packet.h&gt; (see the kernel's Documentation/networking/packet_mmap.rst).</summary>
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
    internal const int PACKET_FANOUT = 18;
    internal const int TPACKET_V3 = 2;
    internal const int PACKET_FANOUT_HASH = 0;
    internal const int PACKET_FANOUT_FLAG_DEFRAG = 0x8000;

    // <linux/if_packet.h> tp_status / block_status bits
    internal const uint TP_STATUS_KERNEL = 0;
    internal const uint TP_STATUS_USER = 1 << 0;
    internal const uint TP_STATUS_LOSING = 1 << 2;
    internal const uint TP_STATUS_CSUMNOTREADY = 1 << 3;
    internal const uint TP_STATUS_CSUM_VALID = 1 << 7;

    /// <summary>struct tpacket_req3: the PACKET_RX_RING request for TPACKET_V3.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct tpacket_req3
    {
        public uint tp_block_size;
        public uint tp_block_nr;
        public uint tp_frame_size;
        public uint tp_frame_nr;
        public uint tp_retire_blk_tov;
        public uint tp_sizeof_priv;
        public uint tp_feature_req_word;
    }

    /// <summary>struct tpacket_bd_ts.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct tpacket_bd_ts
    {
        public uint ts_sec;
        public uint ts_usec; // union with ts_nsec
    }

    /// <summary>struct tpacket_hdr_v1: the header of one block (inside tpacket_block_desc).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct tpacket_hdr_v1
    {
        public uint block_status;
        public uint num_pkts;
        public uint offset_to_first_pkt;
        public uint blk_len;
        public ulong seq_num; // __aligned_u64
        public tpacket_bd_ts ts_first_pkt;
        public tpacket_bd_ts ts_last_pkt;
    }

    /// <summary>struct tpacket_block_desc (the union bd_header holds only tpacket_hdr_v1).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct tpacket_block_desc
    {
        public uint version;
        public uint offset_to_priv;
        public tpacket_hdr_v1 hdr; // union tpacket_bd_header_u bh1
    }

    /// <summary>struct tpacket_hdr_variant1.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct tpacket_hdr_variant1
    {
        public uint tp_rxhash;
        public uint tp_vlan_tci;
        public ushort tp_vlan_tpid;
        public ushort tp_padding;
    }

    /// <summary>struct tpacket3_hdr: the header in front of each frame of a block.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct tpacket3_hdr
    {
        public uint tp_next_offset;
        public uint tp_sec;
        public uint tp_nsec;
        public uint tp_snaplen;
        public uint tp_len;
        public uint tp_status;
        public ushort tp_mac;
        public ushort tp_net;
        public tpacket_hdr_variant1 hv1; // union
        public fixed byte tp_padding[8];
    }

    /// <summary>struct tpacket_stats_v3 (PACKET_STATISTICS on a TPACKET_V3 socket; reading resets it).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct tpacket_stats_v3
    {
        public uint tp_packets;
        public uint tp_drops;
        public uint tp_freeze_q_cnt;
    }
}
