using TunLB.Linux.Xdp;
using TunLB.Tests.Shared;

namespace TunLB.Linux.Tests.Xdp;

/// <summary>The AF_XDP and bpf(2) declarations (Interop.Xdp, Interop.Bpf*, union bpf_attr members) against a gcc-compiled C program.</summary>
public sealed class XdpNativeLayoutTests
{
    private const string CProgram = """
        #include <stdio.h>
        #include <stddef.h>
        #include <errno.h>
        #include <unistd.h>
        #include <sys/syscall.h>
        #include <sys/mman.h>
        #include <sys/socket.h>
        #include <linux/bpf.h>
        #include <linux/if_link.h>
        #include <linux/if_xdp.h>

        #define P(name, value) printf("%s=%ld\n", name, (long)(value))
        int main(void) {
            P("sizeof(sockaddr_xdp)", sizeof(struct sockaddr_xdp));
            P("offsetof(sockaddr_xdp.sxdp_family)", offsetof(struct sockaddr_xdp, sxdp_family));
            P("offsetof(sockaddr_xdp.sxdp_flags)", offsetof(struct sockaddr_xdp, sxdp_flags));
            P("offsetof(sockaddr_xdp.sxdp_ifindex)", offsetof(struct sockaddr_xdp, sxdp_ifindex));
            P("offsetof(sockaddr_xdp.sxdp_queue_id)", offsetof(struct sockaddr_xdp, sxdp_queue_id));
            P("offsetof(sockaddr_xdp.sxdp_shared_umem_fd)", offsetof(struct sockaddr_xdp, sxdp_shared_umem_fd));
            P("sizeof(xdp_ring_offset)", sizeof(struct xdp_ring_offset));
            P("offsetof(xdp_ring_offset.producer)", offsetof(struct xdp_ring_offset, producer));
            P("offsetof(xdp_ring_offset.consumer)", offsetof(struct xdp_ring_offset, consumer));
            P("offsetof(xdp_ring_offset.desc)", offsetof(struct xdp_ring_offset, desc));
            P("offsetof(xdp_ring_offset.flags)", offsetof(struct xdp_ring_offset, flags));
            P("sizeof(xdp_mmap_offsets)", sizeof(struct xdp_mmap_offsets));
            P("offsetof(xdp_mmap_offsets.rx)", offsetof(struct xdp_mmap_offsets, rx));
            P("offsetof(xdp_mmap_offsets.tx)", offsetof(struct xdp_mmap_offsets, tx));
            P("offsetof(xdp_mmap_offsets.fr)", offsetof(struct xdp_mmap_offsets, fr));
            P("offsetof(xdp_mmap_offsets.cr)", offsetof(struct xdp_mmap_offsets, cr));
            P("sizeof(xdp_umem_reg)", sizeof(struct xdp_umem_reg));
            P("offsetof(xdp_umem_reg.addr)", offsetof(struct xdp_umem_reg, addr));
            P("offsetof(xdp_umem_reg.len)", offsetof(struct xdp_umem_reg, len));
            P("offsetof(xdp_umem_reg.chunk_size)", offsetof(struct xdp_umem_reg, chunk_size));
            P("offsetof(xdp_umem_reg.headroom)", offsetof(struct xdp_umem_reg, headroom));
            P("offsetof(xdp_umem_reg.flags)", offsetof(struct xdp_umem_reg, flags));
            P("sizeof(xdp_statistics)", sizeof(struct xdp_statistics));
            P("offsetof(xdp_statistics.rx_dropped)", offsetof(struct xdp_statistics, rx_dropped));
            P("offsetof(xdp_statistics.rx_invalid_descs)", offsetof(struct xdp_statistics, rx_invalid_descs));
            P("offsetof(xdp_statistics.tx_invalid_descs)", offsetof(struct xdp_statistics, tx_invalid_descs));
            P("offsetof(xdp_statistics.rx_ring_full)", offsetof(struct xdp_statistics, rx_ring_full));
            P("offsetof(xdp_statistics.rx_fill_ring_empty_descs)", offsetof(struct xdp_statistics, rx_fill_ring_empty_descs));
            P("offsetof(xdp_statistics.tx_ring_empty_descs)", offsetof(struct xdp_statistics, tx_ring_empty_descs));
            P("sizeof(xdp_options)", sizeof(struct xdp_options));
            P("offsetof(xdp_options.flags)", offsetof(struct xdp_options, flags));
            P("sizeof(xdp_desc)", sizeof(struct xdp_desc));
            P("offsetof(xdp_desc.addr)", offsetof(struct xdp_desc, addr));
            P("offsetof(xdp_desc.len)", offsetof(struct xdp_desc, len));
            P("offsetof(xdp_desc.options)", offsetof(struct xdp_desc, options));
            P("sizeof(xdp_md)", sizeof(struct xdp_md));
            P("offsetof(xdp_md.data)", offsetof(struct xdp_md, data));
            P("offsetof(xdp_md.data_end)", offsetof(struct xdp_md, data_end));
            P("offsetof(xdp_md.data_meta)", offsetof(struct xdp_md, data_meta));
            P("offsetof(xdp_md.ingress_ifindex)", offsetof(struct xdp_md, ingress_ifindex));
            P("offsetof(xdp_md.rx_queue_index)", offsetof(struct xdp_md, rx_queue_index));
            P("offsetof(xdp_md.egress_ifindex)", offsetof(struct xdp_md, egress_ifindex));
            P("sizeof(bpf_insn)", sizeof(struct bpf_insn));
            P("offsetof(bpf_insn.code)", offsetof(struct bpf_insn, code));
            P("offsetof(bpf_insn.off)", offsetof(struct bpf_insn, off));
            P("offsetof(bpf_insn.imm)", offsetof(struct bpf_insn, imm));
            { struct bpf_insn insn = { .dst_reg = 1, .src_reg = 2 }; P("bpf_insn(dst_reg 1, src_reg 2) byte 1", ((unsigned char *)&insn)[1]); }
            P("offsetof(bpf_attr.map_type)", offsetof(union bpf_attr, map_type));
            P("offsetof(bpf_attr.key_size)", offsetof(union bpf_attr, key_size));
            P("offsetof(bpf_attr.value_size)", offsetof(union bpf_attr, value_size));
            P("offsetof(bpf_attr.max_entries)", offsetof(union bpf_attr, max_entries));
            P("offsetof(bpf_attr.map_flags)", offsetof(union bpf_attr, map_flags));
            P("offsetof(bpf_attr.inner_map_fd)", offsetof(union bpf_attr, inner_map_fd));
            P("offsetof(bpf_attr.numa_node)", offsetof(union bpf_attr, numa_node));
            P("offsetof(bpf_attr.map_name)", offsetof(union bpf_attr, map_name));
            P("offsetof(bpf_attr.map_ifindex)", offsetof(union bpf_attr, map_ifindex));
            P("offsetof(bpf_attr.map_fd)", offsetof(union bpf_attr, map_fd));
            P("offsetof(bpf_attr.key)", offsetof(union bpf_attr, key));
            P("offsetof(bpf_attr.value)", offsetof(union bpf_attr, value));
            P("offsetof(bpf_attr.flags)", offsetof(union bpf_attr, flags));
            P("offsetof(bpf_attr.prog_type)", offsetof(union bpf_attr, prog_type));
            P("offsetof(bpf_attr.insn_cnt)", offsetof(union bpf_attr, insn_cnt));
            P("offsetof(bpf_attr.insns)", offsetof(union bpf_attr, insns));
            P("offsetof(bpf_attr.license)", offsetof(union bpf_attr, license));
            P("offsetof(bpf_attr.log_level)", offsetof(union bpf_attr, log_level));
            P("offsetof(bpf_attr.log_size)", offsetof(union bpf_attr, log_size));
            P("offsetof(bpf_attr.log_buf)", offsetof(union bpf_attr, log_buf));
            P("offsetof(bpf_attr.kern_version)", offsetof(union bpf_attr, kern_version));
            P("offsetof(bpf_attr.prog_flags)", offsetof(union bpf_attr, prog_flags));
            P("offsetof(bpf_attr.prog_name)", offsetof(union bpf_attr, prog_name));
            P("offsetof(bpf_attr.prog_ifindex)", offsetof(union bpf_attr, prog_ifindex));
            P("offsetof(bpf_attr.expected_attach_type)", offsetof(union bpf_attr, expected_attach_type));
            P("offsetof(bpf_attr.link_create.prog_fd)", offsetof(union bpf_attr, link_create.prog_fd));
            P("offsetof(bpf_attr.link_create.target_ifindex)", offsetof(union bpf_attr, link_create.target_ifindex));
            P("offsetof(bpf_attr.link_create.attach_type)", offsetof(union bpf_attr, link_create.attach_type));
            P("offsetof(bpf_attr.link_create.flags)", offsetof(union bpf_attr, link_create.flags));
            P("SYS_bpf", SYS_bpf);
            P("AF_XDP", AF_XDP);
            P("SOL_XDP", SOL_XDP);
            P("XDP_SHARED_UMEM", XDP_SHARED_UMEM);
            P("XDP_COPY", XDP_COPY);
            P("XDP_ZEROCOPY", XDP_ZEROCOPY);
            P("XDP_USE_NEED_WAKEUP", XDP_USE_NEED_WAKEUP);
            P("XDP_RING_NEED_WAKEUP", XDP_RING_NEED_WAKEUP);
            P("XDP_MMAP_OFFSETS", XDP_MMAP_OFFSETS);
            P("XDP_RX_RING", XDP_RX_RING);
            P("XDP_TX_RING", XDP_TX_RING);
            P("XDP_UMEM_REG", XDP_UMEM_REG);
            P("XDP_UMEM_FILL_RING", XDP_UMEM_FILL_RING);
            P("XDP_UMEM_COMPLETION_RING", XDP_UMEM_COMPLETION_RING);
            P("XDP_STATISTICS", XDP_STATISTICS);
            P("XDP_OPTIONS", XDP_OPTIONS);
            P("XDP_OPTIONS_ZEROCOPY", XDP_OPTIONS_ZEROCOPY);
            P("XDP_PGOFF_RX_RING", XDP_PGOFF_RX_RING);
            P("XDP_PGOFF_TX_RING", XDP_PGOFF_TX_RING);
            P("XDP_UMEM_PGOFF_FILL_RING", XDP_UMEM_PGOFF_FILL_RING);
            P("XDP_UMEM_PGOFF_COMPLETION_RING", XDP_UMEM_PGOFF_COMPLETION_RING);
            P("XDP_FLAGS_SKB_MODE", XDP_FLAGS_SKB_MODE);
            P("XDP_FLAGS_DRV_MODE", XDP_FLAGS_DRV_MODE);
            P("BPF_MAP_CREATE", BPF_MAP_CREATE);
            P("BPF_MAP_LOOKUP_ELEM", BPF_MAP_LOOKUP_ELEM);
            P("BPF_MAP_UPDATE_ELEM", BPF_MAP_UPDATE_ELEM);
            P("BPF_MAP_DELETE_ELEM", BPF_MAP_DELETE_ELEM);
            P("BPF_PROG_LOAD", BPF_PROG_LOAD);
            P("BPF_LINK_CREATE", BPF_LINK_CREATE);
            P("BPF_MAP_TYPE_HASH", BPF_MAP_TYPE_HASH);
            P("BPF_MAP_TYPE_XSKMAP", BPF_MAP_TYPE_XSKMAP);
            P("BPF_MAP_TYPE_PERCPU_ARRAY", BPF_MAP_TYPE_PERCPU_ARRAY);
            P("BPF_PROG_TYPE_XDP", BPF_PROG_TYPE_XDP);
            P("BPF_XDP", BPF_XDP);
            P("BPF_ANY", BPF_ANY);
            P("BPF_OBJ_NAME_LEN", BPF_OBJ_NAME_LEN);
            P("BPF_LD", BPF_LD);
            P("BPF_LDX", BPF_LDX);
            P("BPF_ST", BPF_ST);
            P("BPF_STX", BPF_STX);
            P("BPF_ALU", BPF_ALU);
            P("BPF_JMP", BPF_JMP);
            P("BPF_ALU64", BPF_ALU64);
            P("BPF_W", BPF_W);
            P("BPF_H", BPF_H);
            P("BPF_B", BPF_B);
            P("BPF_DW", BPF_DW);
            P("BPF_IMM", BPF_IMM);
            P("BPF_MEM", BPF_MEM);
            P("BPF_K", BPF_K);
            P("BPF_X", BPF_X);
            P("BPF_ADD", BPF_ADD);
            P("BPF_END", BPF_END);
            P("BPF_TO_BE", BPF_TO_BE);
            P("BPF_AND", BPF_AND);
            P("BPF_LSH", BPF_LSH);
            P("BPF_RSH", BPF_RSH);
            P("BPF_MOV", BPF_MOV);
            P("BPF_JA", BPF_JA);
            P("BPF_JEQ", BPF_JEQ);
            P("BPF_JGT", BPF_JGT);
            P("BPF_JSET", BPF_JSET);
            P("BPF_JNE", BPF_JNE);
            P("BPF_CALL", BPF_CALL);
            P("BPF_EXIT", BPF_EXIT);
            P("BPF_PSEUDO_MAP_FD", BPF_PSEUDO_MAP_FD);
            P("BPF_REG_10", BPF_REG_10);
            P("BPF_FUNC_map_lookup_elem", BPF_FUNC_map_lookup_elem);
            P("BPF_FUNC_redirect_map", BPF_FUNC_redirect_map);
            P("BPF_FUNC_xdp_adjust_head", BPF_FUNC_xdp_adjust_head);
            P("XDP_ABORTED", XDP_ABORTED);
            P("XDP_DROP", XDP_DROP);
            P("XDP_PASS", XDP_PASS);
            P("XDP_REDIRECT", XDP_REDIRECT);
            P("MAP_PRIVATE", MAP_PRIVATE);
            P("MAP_ANONYMOUS", MAP_ANONYMOUS);
            P("MAP_POPULATE", MAP_POPULATE);
            P("E2BIG", E2BIG);
            P("EACCES", EACCES);
            P("ERANGE", ERANGE);
            P("EPROTONOSUPPORT", EPROTONOSUPPORT);
            P("EOPNOTSUPP", EOPNOTSUPP);
            P("EBUSY", EBUSY);
            P("ENOBUFS", ENOBUFS);
            return 0;
        }
        """;

    [Fact]
    public void Declarations_match_the_C_headers() =>
        CHeaderValues.AssertSame(CHeaderValues.CompileAndRun(CProgram), XdpNativeLayout.Values());
}
