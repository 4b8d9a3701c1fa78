using System.Diagnostics;

namespace TunLB.Linux.Tests;

/// <summary>The TPACKET_V3 ring, virtio_net_hdr and capture-filter declarations against a gcc-compiled C program (like NativeLayoutTests).</summary>
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
            P("sizeof(tpacket_req3)", sizeof(struct tpacket_req3));
            P("offsetof(tpacket_req3.tp_block_size)", offsetof(struct tpacket_req3, tp_block_size));
            P("offsetof(tpacket_req3.tp_block_nr)", offsetof(struct tpacket_req3, tp_block_nr));
            P("offsetof(tpacket_req3.tp_frame_size)", offsetof(struct tpacket_req3, tp_frame_size));
            P("offsetof(tpacket_req3.tp_frame_nr)", offsetof(struct tpacket_req3, tp_frame_nr));
            P("offsetof(tpacket_req3.tp_retire_blk_tov)", offsetof(struct tpacket_req3, tp_retire_blk_tov));
            P("offsetof(tpacket_req3.tp_sizeof_priv)", offsetof(struct tpacket_req3, tp_sizeof_priv));
            P("offsetof(tpacket_req3.tp_feature_req_word)", offsetof(struct tpacket_req3, tp_feature_req_word));
            P("sizeof(tpacket_block_desc)", sizeof(struct tpacket_block_desc));
            P("offsetof(tpacket_block_desc.version)", offsetof(struct tpacket_block_desc, version));
            P("offsetof(tpacket_block_desc.offset_to_priv)", offsetof(struct tpacket_block_desc, offset_to_priv));
            P("offsetof(tpacket_block_desc.hdr)", offsetof(struct tpacket_block_desc, hdr.bh1));
            P("sizeof(tpacket_hdr_v1)", sizeof(struct tpacket_hdr_v1));
            P("offsetof(tpacket_hdr_v1.block_status)", offsetof(struct tpacket_hdr_v1, block_status));
            P("offsetof(tpacket_hdr_v1.num_pkts)", offsetof(struct tpacket_hdr_v1, num_pkts));
            P("offsetof(tpacket_hdr_v1.offset_to_first_pkt)", offsetof(struct tpacket_hdr_v1, offset_to_first_pkt));
            P("offsetof(tpacket_hdr_v1.blk_len)", offsetof(struct tpacket_hdr_v1, blk_len));
            P("offsetof(tpacket_hdr_v1.seq_num)", offsetof(struct tpacket_hdr_v1, seq_num));
            P("offsetof(tpacket_hdr_v1.ts_first_pkt)", offsetof(struct tpacket_hdr_v1, ts_first_pkt));
            P("offsetof(tpacket_hdr_v1.ts_last_pkt)", offsetof(struct tpacket_hdr_v1, ts_last_pkt));
            P("sizeof(tpacket3_hdr)", sizeof(struct tpacket3_hdr));
            P("offsetof(tpacket3_hdr.tp_next_offset)", offsetof(struct tpacket3_hdr, tp_next_offset));
            P("offsetof(tpacket3_hdr.tp_sec)", offsetof(struct tpacket3_hdr, tp_sec));
            P("offsetof(tpacket3_hdr.tp_nsec)", offsetof(struct tpacket3_hdr, tp_nsec));
            P("offsetof(tpacket3_hdr.tp_snaplen)", offsetof(struct tpacket3_hdr, tp_snaplen));
            P("offsetof(tpacket3_hdr.tp_len)", offsetof(struct tpacket3_hdr, tp_len));
            P("offsetof(tpacket3_hdr.tp_status)", offsetof(struct tpacket3_hdr, tp_status));
            P("offsetof(tpacket3_hdr.tp_mac)", offsetof(struct tpacket3_hdr, tp_mac));
            P("offsetof(tpacket3_hdr.tp_net)", offsetof(struct tpacket3_hdr, tp_net));
            P("offsetof(tpacket3_hdr.hv1)", offsetof(struct tpacket3_hdr, hv1));
            P("offsetof(tpacket3_hdr.tp_padding)", offsetof(struct tpacket3_hdr, tp_padding));
            P("sizeof(tpacket_hdr_variant1)", sizeof(struct tpacket_hdr_variant1));
            P("offsetof(tpacket_hdr_variant1.tp_rxhash)", offsetof(struct tpacket_hdr_variant1, tp_rxhash));
            P("offsetof(tpacket_hdr_variant1.tp_vlan_tci)", offsetof(struct tpacket_hdr_variant1, tp_vlan_tci));
            P("offsetof(tpacket_hdr_variant1.tp_vlan_tpid)", offsetof(struct tpacket_hdr_variant1, tp_vlan_tpid));
            P("offsetof(tpacket_hdr_variant1.tp_padding)", offsetof(struct tpacket_hdr_variant1, tp_padding));
            P("sizeof(tpacket_stats_v3)", sizeof(struct tpacket_stats_v3));
            P("offsetof(tpacket_stats_v3.tp_packets)", offsetof(struct tpacket_stats_v3, tp_packets));
            P("offsetof(tpacket_stats_v3.tp_drops)", offsetof(struct tpacket_stats_v3, tp_drops));
            P("offsetof(tpacket_stats_v3.tp_freeze_q_cnt)", offsetof(struct tpacket_stats_v3, tp_freeze_q_cnt));
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
            P("TPACKET_V3", TPACKET_V3);
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
    public void Declarations_match_the_C_headers()
    {
        string dir = Directory.CreateTempSubdirectory("tunlb-afpacket-layout-").FullName;
        try
        {
            string src = Path.Combine(dir, "layout.c"), exe = Path.Combine(dir, "layout");
            File.WriteAllText(src, CProgram);
            Run("gcc", "-D_GNU_SOURCE", "-o", exe, src);
            var native = Run(exe).Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .ToDictionary(l => l[..l.IndexOf('=')], l => long.Parse(l[(l.IndexOf('=') + 1)..]));
            var ours = AfPacketNativeLayout.Values();
            Assert.Equal(native.Keys.Order(), ours.Keys.Order());
            foreach (var (k, v) in native) Assert.True(v == ours[k], $"{k}: C {v}, C# {ours[k]}");
        }
        finally { Directory.Delete(dir, true); }
    }

    private static string Run(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        string o = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"{file}: {err.Result}");
        return o;
    }
}
