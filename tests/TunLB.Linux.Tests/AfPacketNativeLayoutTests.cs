using TunLB.Tests.Shared;

namespace TunLB.Linux.Tests;

/// <summary>The TPACKET_V2 rings (receive and transmit), virtio_net_hdr and capture-filter declarations against a gcc-compiled C program (like NativeLayoutTests).</summary>
public sealed class AfPacketNativeLayoutTests
{
    private static readonly string CProgram = new CLayoutProgram("sys/mman.h", "sys/socket.h", "linux/if_packet.h", "linux/if_ether.h", "linux/filter.h", "linux/virtio_net.h")
        .Struct("tpacket_req", "tp_block_size", "tp_block_nr", "tp_frame_size", "tp_frame_nr")
        .Struct("tpacket2_hdr", "tp_status", "tp_len", "tp_snaplen", "tp_mac", "tp_net", "tp_sec", "tp_nsec", "tp_vlan_tci", "tp_vlan_tpid", "tp_padding")
        .Struct("tpacket_stats", "tp_packets", "tp_drops")
        .Struct("virtio_net_hdr", "flags", "gso_type", "hdr_len", "gso_size", "csum_start", "csum_offset")
        .Struct("sockaddr_ll", "sll_family", "sll_protocol", "sll_ifindex", "sll_hatype", "sll_pkttype", "sll_halen", "sll_addr")
        .Constants("SOL_PACKET", "ETH_P_ALL", "ETH_P_IP", "ETH_P_IPV6", "PACKET_RX_RING", "PACKET_STATISTICS",
            "PACKET_VERSION", "PACKET_VNET_HDR", "PACKET_FANOUT", "PACKET_TX_RING", "PACKET_LOSS",
            "PACKET_QDISC_BYPASS", "TP_STATUS_AVAILABLE", "TP_STATUS_SEND_REQUEST", "TP_STATUS_SENDING",
            "TP_STATUS_WRONG_FORMAT")
        .Value("TPACKET2_HDRLEN - sizeof(sockaddr_ll)", "TPACKET2_HDRLEN - sizeof(struct sockaddr_ll)")
        .Constants("TPACKET_V2", "TPACKET_ALIGNMENT", "TPACKET2_HDRLEN", "PACKET_FANOUT_HASH",
            "PACKET_FANOUT_FLAG_DEFRAG", "TP_STATUS_KERNEL", "TP_STATUS_USER", "TP_STATUS_LOSING",
            "TP_STATUS_CSUMNOTREADY", "TP_STATUS_CSUM_VALID", "VIRTIO_NET_HDR_F_NEEDS_CSUM",
            "VIRTIO_NET_HDR_GSO_NONE", "VIRTIO_NET_HDR_GSO_TCPV4", "VIRTIO_NET_HDR_GSO_UDP",
            "VIRTIO_NET_HDR_GSO_TCPV6", "VIRTIO_NET_HDR_GSO_ECN", "PROT_READ", "PROT_WRITE", "MAP_SHARED",
            "PACKET_HOST", "SKF_AD_PROTOCOL", "SKF_AD_IFINDEX", "SKF_NET_OFF", "BPF_MAXINSNS")
        .Value("ETH_P_IPV6 (filter)", "ETH_P_IPV6")
        .Constants("BPF_JMP|BPF_JA")
        .ToString();

    [Fact]
    public void Declarations_match_the_C_headers() =>
        CHeaderValues.AssertSame(CHeaderValues.CompileAndRun(CProgram), AfPacketNativeLayout.Values());
}
