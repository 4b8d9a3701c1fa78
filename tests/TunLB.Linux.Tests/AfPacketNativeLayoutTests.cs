using TunLB.Tests.Shared;

namespace TunLB.Linux.Tests;

/// <summary>The TPACKET_V2 rings (receive and transmit), virtio_net_hdr and capture-filter declarations against a gcc-compiled C program (like NativeLayoutTests).</summary>
public sealed class AfPacketNativeLayoutTests
{
    private const string CProgram = """
        #include <stdio.h>
        #include <stddef.h>
        #include <sys/mman.h>
        #include <sys/socket.h>
        #include <linux/if_packet.h>
        #include <linux/if_ether.h>
        #include <linux/filter.h>
        #include <linux/virtio_net.h>

        #define P(name, value) printf("%s=%ld\n", name, (long)(value))
        int main(void) {
            P("sizeof(tpacket_req)", sizeof(struct tpacket_req));
            P("offsetof(tpacket_req.tp_block_size)", offsetof(struct tpacket_req, tp_block_size));
            P("offsetof(tpacket_req.tp_block_nr)", offsetof(struct tpacket_req, tp_block_nr));
            P("offsetof(tpacket_req.tp_frame_size)", offsetof(struct tpacket_req, tp_frame_size));
            P("offsetof(tpacket_req.tp_frame_nr)", offsetof(struct tpacket_req, tp_frame_nr));
            P("sizeof(tpacket2_hdr)", sizeof(struct tpacket2_hdr));
            P("offsetof(tpacket2_hdr.tp_status)", offsetof(struct tpacket2_hdr, tp_status));
            P("offsetof(tpacket2_hdr.tp_len)", offsetof(struct tpacket2_hdr, tp_len));
            P("offsetof(tpacket2_hdr.tp_snaplen)", offsetof(struct tpacket2_hdr, tp_snaplen));
            P("offsetof(tpacket2_hdr.tp_mac)", offsetof(struct tpacket2_hdr, tp_mac));
            P("offsetof(tpacket2_hdr.tp_net)", offsetof(struct tpacket2_hdr, tp_net));
            P("offsetof(tpacket2_hdr.tp_sec)", offsetof(struct tpacket2_hdr, tp_sec));
            P("offsetof(tpacket2_hdr.tp_nsec)", offsetof(struct tpacket2_hdr, tp_nsec));
            P("offsetof(tpacket2_hdr.tp_vlan_tci)", offsetof(struct tpacket2_hdr, tp_vlan_tci));
            P("offsetof(tpacket2_hdr.tp_vlan_tpid)", offsetof(struct tpacket2_hdr, tp_vlan_tpid));
            P("offsetof(tpacket2_hdr.tp_padding)", offsetof(struct tpacket2_hdr, tp_padding));
            P("sizeof(tpacket_stats)", sizeof(struct tpacket_stats));
            P("offsetof(tpacket_stats.tp_packets)", offsetof(struct tpacket_stats, tp_packets));
            P("offsetof(tpacket_stats.tp_drops)", offsetof(struct tpacket_stats, tp_drops));
            P("sizeof(virtio_net_hdr)", sizeof(struct virtio_net_hdr));
            P("offsetof(virtio_net_hdr.flags)", offsetof(struct virtio_net_hdr, flags));
            P("offsetof(virtio_net_hdr.gso_type)", offsetof(struct virtio_net_hdr, gso_type));
            P("offsetof(virtio_net_hdr.hdr_len)", offsetof(struct virtio_net_hdr, hdr_len));
            P("offsetof(virtio_net_hdr.gso_size)", offsetof(struct virtio_net_hdr, gso_size));
            P("offsetof(virtio_net_hdr.csum_start)", offsetof(struct virtio_net_hdr, csum_start));
            P("offsetof(virtio_net_hdr.csum_offset)", offsetof(struct virtio_net_hdr, csum_offset));
            P("sizeof(sockaddr_ll)", sizeof(struct sockaddr_ll));
            P("offsetof(sockaddr_ll.sll_family)", offsetof(struct sockaddr_ll, sll_family));
            P("offsetof(sockaddr_ll.sll_protocol)", offsetof(struct sockaddr_ll, sll_protocol));
            P("offsetof(sockaddr_ll.sll_ifindex)", offsetof(struct sockaddr_ll, sll_ifindex));
            P("offsetof(sockaddr_ll.sll_hatype)", offsetof(struct sockaddr_ll, sll_hatype));
            P("offsetof(sockaddr_ll.sll_pkttype)", offsetof(struct sockaddr_ll, sll_pkttype));
            P("offsetof(sockaddr_ll.sll_halen)", offsetof(struct sockaddr_ll, sll_halen));
            P("offsetof(sockaddr_ll.sll_addr)", offsetof(struct sockaddr_ll, sll_addr));
            P("SOL_PACKET", SOL_PACKET);
            P("ETH_P_ALL", ETH_P_ALL);
            P("ETH_P_IP", ETH_P_IP);
            P("ETH_P_IPV6", ETH_P_IPV6);
            P("PACKET_RX_RING", PACKET_RX_RING);
            P("PACKET_STATISTICS", PACKET_STATISTICS);
            P("PACKET_VERSION", PACKET_VERSION);
            P("PACKET_VNET_HDR", PACKET_VNET_HDR);
            P("PACKET_FANOUT", PACKET_FANOUT);
            P("PACKET_TX_RING", PACKET_TX_RING);
            P("PACKET_LOSS", PACKET_LOSS);
            P("PACKET_QDISC_BYPASS", PACKET_QDISC_BYPASS);
            P("TP_STATUS_AVAILABLE", TP_STATUS_AVAILABLE);
            P("TP_STATUS_SEND_REQUEST", TP_STATUS_SEND_REQUEST);
            P("TP_STATUS_SENDING", TP_STATUS_SENDING);
            P("TP_STATUS_WRONG_FORMAT", TP_STATUS_WRONG_FORMAT);
            P("TPACKET2_HDRLEN - sizeof(sockaddr_ll)", TPACKET2_HDRLEN - sizeof(struct sockaddr_ll));
            P("TPACKET_V2", TPACKET_V2);
            P("TPACKET_ALIGNMENT", TPACKET_ALIGNMENT);
            P("TPACKET2_HDRLEN", TPACKET2_HDRLEN);
            P("PACKET_FANOUT_HASH", PACKET_FANOUT_HASH);
            P("PACKET_FANOUT_FLAG_DEFRAG", PACKET_FANOUT_FLAG_DEFRAG);
            P("TP_STATUS_KERNEL", TP_STATUS_KERNEL);
            P("TP_STATUS_USER", TP_STATUS_USER);
            P("TP_STATUS_LOSING", TP_STATUS_LOSING);
            P("TP_STATUS_CSUMNOTREADY", TP_STATUS_CSUMNOTREADY);
            P("TP_STATUS_CSUM_VALID", TP_STATUS_CSUM_VALID);
            P("VIRTIO_NET_HDR_F_NEEDS_CSUM", VIRTIO_NET_HDR_F_NEEDS_CSUM);
            P("VIRTIO_NET_HDR_GSO_NONE", VIRTIO_NET_HDR_GSO_NONE);
            P("VIRTIO_NET_HDR_GSO_TCPV4", VIRTIO_NET_HDR_GSO_TCPV4);
            P("VIRTIO_NET_HDR_GSO_UDP", VIRTIO_NET_HDR_GSO_UDP);
            P("VIRTIO_NET_HDR_GSO_TCPV6", VIRTIO_NET_HDR_GSO_TCPV6);
            P("VIRTIO_NET_HDR_GSO_ECN", VIRTIO_NET_HDR_GSO_ECN);
            P("PROT_READ", PROT_READ);
            P("PROT_WRITE", PROT_WRITE);
            P("MAP_SHARED", MAP_SHARED);
            P("PACKET_HOST", PACKET_HOST);
            P("SKF_AD_PROTOCOL", SKF_AD_PROTOCOL);
            P("SKF_AD_IFINDEX", SKF_AD_IFINDEX);
            P("SKF_NET_OFF", SKF_NET_OFF);
            P("BPF_MAXINSNS", BPF_MAXINSNS);
            P("ETH_P_IPV6 (filter)", ETH_P_IPV6);
            P("BPF_JMP|BPF_JA", BPF_JMP|BPF_JA);
            return 0;
        }
        """;

    [Fact]
    public void Declarations_match_the_C_headers() =>
        CHeaderValues.AssertSame(CHeaderValues.CompileAndRun(CProgram), AfPacketNativeLayout.Values());
}
