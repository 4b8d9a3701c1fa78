using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TunLB.Core.Capture;
using TunLB.Core.Egress;

namespace TunLB.Linux.Tests;

/// <summary>
/// Sizes, offsets and constants of the TPACKET_V2 ring, virtio_net_hdr and capture-filter declarations, by the C name a
/// test program prints for them (AfPacketNativeLayoutTests compiles it with gcc).
/// </summary>
internal static class AfPacketNativeLayout
{
    public static IReadOnlyDictionary<string, long> Values()
    {
        var v = new Dictionary<string, long>();
        void S<T>(string c) => v[$"sizeof({c})"] = Unsafe.SizeOf<T>();
        void O<T>(string c, string field, string? csField = null) =>
            v[$"offsetof({c}.{field})"] = Marshal.OffsetOf<T>(csField ?? field).ToInt64();

        S<Interop.tpacket_req>("tpacket_req");
        foreach (var f in new[] { "tp_block_size", "tp_block_nr", "tp_frame_size", "tp_frame_nr" })
            O<Interop.tpacket_req>("tpacket_req", f);
        S<Interop.tpacket2_hdr>("tpacket2_hdr");
        foreach (var f in new[] { "tp_status", "tp_len", "tp_snaplen", "tp_mac", "tp_net", "tp_sec", "tp_nsec", "tp_vlan_tci", "tp_vlan_tpid", "tp_padding" })
            O<Interop.tpacket2_hdr>("tpacket2_hdr", f);
        S<Interop.tpacket_stats>("tpacket_stats");
        foreach (var f in new[] { "tp_packets", "tp_drops" })
            O<Interop.tpacket_stats>("tpacket_stats", f);
        S<Interop.virtio_net_hdr>("virtio_net_hdr");
        foreach (var f in new[] { "flags", "gso_type", "hdr_len", "gso_size", "csum_start", "csum_offset" })
            O<Interop.virtio_net_hdr>("virtio_net_hdr", f);
        S<Interop.sockaddr_ll>("sockaddr_ll");
        foreach (var f in new[] { "sll_family", "sll_protocol", "sll_ifindex", "sll_hatype", "sll_pkttype", "sll_halen", "sll_addr" })
            O<Interop.sockaddr_ll>("sockaddr_ll", f);

        v["SOL_PACKET"] = Interop.SOL_PACKET;
        v["ETH_P_ALL"] = Interop.ETH_P_ALL;
        v["ETH_P_IP"] = CaptureBpf.EtherTypeIPv4;
        v["ETH_P_IPV6"] = Interop.ETH_P_IPV6;
        v["ETH_P_IPV6 (filter)"] = CaptureBpf.EtherTypeIPv6;
        v["PACKET_RX_RING"] = Interop.PACKET_RX_RING;
        v["PACKET_STATISTICS"] = Interop.PACKET_STATISTICS;
        v["PACKET_VERSION"] = Interop.PACKET_VERSION;
        v["PACKET_VNET_HDR"] = Interop.PACKET_VNET_HDR;
        v["PACKET_FANOUT"] = Interop.PACKET_FANOUT;
        v["PACKET_TX_RING"] = Interop.PACKET_TX_RING;
        v["PACKET_LOSS"] = Interop.PACKET_LOSS;
        v["PACKET_QDISC_BYPASS"] = Interop.PACKET_QDISC_BYPASS;
        v["TP_STATUS_AVAILABLE"] = Interop.TP_STATUS_AVAILABLE;
        v["TP_STATUS_SEND_REQUEST"] = Interop.TP_STATUS_SEND_REQUEST;
        v["TP_STATUS_SENDING"] = Interop.TP_STATUS_SENDING;
        v["TP_STATUS_WRONG_FORMAT"] = Interop.TP_STATUS_WRONG_FORMAT;
        v["TPACKET2_HDRLEN - sizeof(sockaddr_ll)"] = PacketTxRing.DataOffset;
        v["TPACKET_V2"] = Interop.TPACKET_V2;
        v["TPACKET_ALIGNMENT"] = Interop.TPACKET_ALIGNMENT;
        v["TPACKET2_HDRLEN"] = AfPacketRing.FrameHeaderLength;
        v["PACKET_FANOUT_HASH"] = Interop.PACKET_FANOUT_HASH;
        v["PACKET_FANOUT_FLAG_DEFRAG"] = Interop.PACKET_FANOUT_FLAG_DEFRAG;
        v["TP_STATUS_KERNEL"] = Interop.TP_STATUS_KERNEL;
        v["TP_STATUS_USER"] = Interop.TP_STATUS_USER;
        v["TP_STATUS_LOSING"] = Interop.TP_STATUS_LOSING;
        v["TP_STATUS_CSUMNOTREADY"] = Interop.TP_STATUS_CSUMNOTREADY;
        v["TP_STATUS_CSUM_VALID"] = Interop.TP_STATUS_CSUM_VALID;
        v["VIRTIO_NET_HDR_F_NEEDS_CSUM"] = Interop.VIRTIO_NET_HDR_F_NEEDS_CSUM;
        v["VIRTIO_NET_HDR_GSO_NONE"] = Interop.VIRTIO_NET_HDR_GSO_NONE;
        v["VIRTIO_NET_HDR_GSO_TCPV4"] = Interop.VIRTIO_NET_HDR_GSO_TCPV4;
        v["VIRTIO_NET_HDR_GSO_UDP"] = Interop.VIRTIO_NET_HDR_GSO_UDP;
        v["VIRTIO_NET_HDR_GSO_TCPV6"] = Interop.VIRTIO_NET_HDR_GSO_TCPV6;
        v["VIRTIO_NET_HDR_GSO_ECN"] = Interop.VIRTIO_NET_HDR_GSO_ECN;
        v["PROT_READ"] = Interop.PROT_READ;
        v["PROT_WRITE"] = Interop.PROT_WRITE;
        v["MAP_SHARED"] = Interop.MAP_SHARED;
        v["PACKET_HOST"] = CaptureBpf.PACKET_HOST;
        v["SKF_AD_PROTOCOL"] = CaptureBpf.SKF_AD_PROTOCOL;
        v["SKF_AD_IFINDEX"] = CaptureBpf.SKF_AD_IFINDEX;
        v["SKF_NET_OFF"] = unchecked((int)CaptureBpf.SKF_NET_OFF);
        v["BPF_JMP|BPF_JA"] = EgressBpf.BPF_JMP | CaptureBpf.BPF_JA;
        v["BPF_MAXINSNS"] = CaptureBpf.MaxInstructions;
        return v;
    }
}
