using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace TunLB.Linux.Xdp;

/// <summary>
/// Sizes, offsets and constants of the AF_XDP and bpf(2) declarations, by the C name a test program prints for them
/// (tests/TunLB.Linux.Tests/XdpNativeLayoutTests.cs, compiled with gcc against the kernel headers).
/// </summary>
public static class XdpNativeLayout
{
    public static IReadOnlyDictionary<string, long> Values()
    {
        var v = new Dictionary<string, long>();
        void Struct<T>(string c, params string[] fields)
        {
            v[$"sizeof({c})"] = Unsafe.SizeOf<T>();
            foreach (var f in fields) v[$"offsetof({c}.{f})"] = Marshal.OffsetOf<T>(f).ToInt64();
        }
        // union bpf_attr members: offsets within the union, by the field's C path.
        void Attr<T>(string prefix, params string[] fields)
        {
            foreach (var f in fields) v[$"offsetof(bpf_attr.{prefix}{f})"] = Marshal.OffsetOf<T>(f).ToInt64();
        }

        Struct<Interop.sockaddr_xdp>("sockaddr_xdp", "sxdp_family", "sxdp_flags", "sxdp_ifindex", "sxdp_queue_id", "sxdp_shared_umem_fd");
        Struct<Interop.xdp_ring_offset>("xdp_ring_offset", "producer", "consumer", "desc", "flags");
        Struct<Interop.xdp_mmap_offsets>("xdp_mmap_offsets", "rx", "tx", "fr", "cr");
        Struct<Interop.xdp_umem_reg>("xdp_umem_reg", "addr", "len", "chunk_size", "headroom", "flags");
        Struct<Interop.xdp_statistics>("xdp_statistics", "rx_dropped", "rx_invalid_descs", "tx_invalid_descs", "rx_ring_full",
            "rx_fill_ring_empty_descs", "tx_ring_empty_descs");
        Struct<Interop.xdp_options>("xdp_options", "flags");
        Struct<Interop.xdp_desc>("xdp_desc", "addr", "len", "options");
        Struct<Interop.xdp_md>("xdp_md", "data", "data_end", "data_meta", "ingress_ifindex", "rx_queue_index", "egress_ifindex");
        Struct<Interop.bpf_insn>("bpf_insn", "code", "off", "imm");
        v["bpf_insn(dst_reg 1, src_reg 2) byte 1"] = new Interop.bpf_insn(0, 1, 2, 0, 0).regs;
        Attr<Interop.bpf_attr_map_create>("", "map_type", "key_size", "value_size", "max_entries", "map_flags", "inner_map_fd",
            "numa_node", "map_name", "map_ifindex");
        Attr<Interop.bpf_attr_map_elem>("", "map_fd", "key", "value", "flags");
        Attr<Interop.bpf_attr_prog_load>("", "prog_type", "insn_cnt", "insns", "license", "log_level", "log_size", "log_buf",
            "kern_version", "prog_flags", "prog_name", "prog_ifindex", "expected_attach_type");
        Attr<Interop.bpf_attr_link_create>("link_create.", "prog_fd", "target_ifindex", "attach_type", "flags");

        v["SYS_bpf"] = Interop.SYS_bpf;
        v["AF_XDP"] = Interop.AF_XDP;
        v["SOL_XDP"] = Interop.SOL_XDP;
        v["XDP_SHARED_UMEM"] = Interop.XDP_SHARED_UMEM;
        v["XDP_COPY"] = Interop.XDP_COPY;
        v["XDP_ZEROCOPY"] = Interop.XDP_ZEROCOPY;
        v["XDP_USE_NEED_WAKEUP"] = Interop.XDP_USE_NEED_WAKEUP;
        v["XDP_RING_NEED_WAKEUP"] = Interop.XDP_RING_NEED_WAKEUP;
        v["XDP_MMAP_OFFSETS"] = Interop.XDP_MMAP_OFFSETS;
        v["XDP_RX_RING"] = Interop.XDP_RX_RING;
        v["XDP_TX_RING"] = Interop.XDP_TX_RING;
        v["XDP_UMEM_REG"] = Interop.XDP_UMEM_REG;
        v["XDP_UMEM_FILL_RING"] = Interop.XDP_UMEM_FILL_RING;
        v["XDP_UMEM_COMPLETION_RING"] = Interop.XDP_UMEM_COMPLETION_RING;
        v["XDP_STATISTICS"] = Interop.XDP_STATISTICS;
        v["XDP_OPTIONS"] = Interop.XDP_OPTIONS;
        v["XDP_OPTIONS_ZEROCOPY"] = Interop.XDP_OPTIONS_ZEROCOPY;
        v["XDP_PGOFF_RX_RING"] = Interop.XDP_PGOFF_RX_RING;
        v["XDP_PGOFF_TX_RING"] = Interop.XDP_PGOFF_TX_RING;
        v["XDP_UMEM_PGOFF_FILL_RING"] = Interop.XDP_UMEM_PGOFF_FILL_RING;
        v["XDP_UMEM_PGOFF_COMPLETION_RING"] = Interop.XDP_UMEM_PGOFF_COMPLETION_RING;
        v["XDP_FLAGS_SKB_MODE"] = Interop.XDP_FLAGS_SKB_MODE;
        v["XDP_FLAGS_DRV_MODE"] = Interop.XDP_FLAGS_DRV_MODE;
        v["BPF_MAP_CREATE"] = Interop.BPF_MAP_CREATE;
        v["BPF_MAP_LOOKUP_ELEM"] = Interop.BPF_MAP_LOOKUP_ELEM;
        v["BPF_MAP_UPDATE_ELEM"] = Interop.BPF_MAP_UPDATE_ELEM;
        v["BPF_MAP_DELETE_ELEM"] = Interop.BPF_MAP_DELETE_ELEM;
        v["BPF_PROG_LOAD"] = Interop.BPF_PROG_LOAD;
        v["BPF_LINK_CREATE"] = Interop.BPF_LINK_CREATE;
        v["BPF_MAP_TYPE_HASH"] = Interop.BPF_MAP_TYPE_HASH;
        v["BPF_MAP_TYPE_XSKMAP"] = Interop.BPF_MAP_TYPE_XSKMAP;
        v["BPF_MAP_TYPE_PERCPU_ARRAY"] = Interop.BPF_MAP_TYPE_PERCPU_ARRAY;
        v["BPF_PROG_TYPE_XDP"] = Interop.BPF_PROG_TYPE_XDP;
        v["BPF_XDP"] = Interop.BPF_XDP;
        v["BPF_ANY"] = (long)Interop.BPF_ANY;
        v["BPF_OBJ_NAME_LEN"] = Interop.BPF_OBJ_NAME_LEN;
        v["BPF_LD"] = Interop.BPF_LD;
        v["BPF_LDX"] = Interop.BPF_LDX;
        v["BPF_ST"] = Interop.BPF_ST;
        v["BPF_STX"] = Interop.BPF_STX;
        v["BPF_ALU"] = Interop.BPF_ALU;
        v["BPF_JMP"] = Interop.BPF_JMP;
        v["BPF_ALU64"] = Interop.BPF_ALU64;
        v["BPF_W"] = Interop.BPF_W;
        v["BPF_H"] = Interop.BPF_H;
        v["BPF_B"] = Interop.BPF_B;
        v["BPF_DW"] = Interop.BPF_DW;
        v["BPF_IMM"] = Interop.BPF_IMM;
        v["BPF_MEM"] = Interop.BPF_MEM;
        v["BPF_K"] = Interop.BPF_K;
        v["BPF_X"] = Interop.BPF_X;
        v["BPF_ADD"] = Interop.BPF_ADD;
        v["BPF_END"] = Interop.BPF_END;
        v["BPF_TO_BE"] = Interop.BPF_TO_BE;
        v["BPF_AND"] = Interop.BPF_AND;
        v["BPF_LSH"] = Interop.BPF_LSH;
        v["BPF_RSH"] = Interop.BPF_RSH;
        v["BPF_MOV"] = Interop.BPF_MOV;
        v["BPF_JA"] = Interop.BPF_JA;
        v["BPF_JEQ"] = Interop.BPF_JEQ;
        v["BPF_JGT"] = Interop.BPF_JGT;
        v["BPF_JSET"] = Interop.BPF_JSET;
        v["BPF_JNE"] = Interop.BPF_JNE;
        v["BPF_CALL"] = Interop.BPF_CALL;
        v["BPF_EXIT"] = Interop.BPF_EXIT;
        v["BPF_PSEUDO_MAP_FD"] = Interop.BPF_PSEUDO_MAP_FD;
        v["BPF_REG_10"] = Interop.BPF_REG_10;
        v["BPF_FUNC_map_lookup_elem"] = Interop.BPF_FUNC_map_lookup_elem;
        v["BPF_FUNC_redirect_map"] = Interop.BPF_FUNC_redirect_map;
        v["BPF_FUNC_xdp_adjust_head"] = Interop.BPF_FUNC_xdp_adjust_head;
        v["XDP_ABORTED"] = Interop.XDP_ABORTED;
        v["XDP_DROP"] = Interop.XDP_DROP;
        v["XDP_PASS"] = Interop.XDP_PASS;
        v["XDP_REDIRECT"] = Interop.XDP_REDIRECT;
        v["MAP_PRIVATE"] = Interop.MAP_PRIVATE;
        v["MAP_ANONYMOUS"] = Interop.MAP_ANONYMOUS;
        v["MAP_POPULATE"] = Interop.MAP_POPULATE;
        v["E2BIG"] = Interop.E2BIG;
        v["EACCES"] = Interop.EACCES;
        v["ERANGE"] = Interop.ERANGE;
        v["EPROTONOSUPPORT"] = Interop.EPROTONOSUPPORT;
        v["EOPNOTSUPP"] = Interop.EOPNOTSUPP;
        v["EBUSY"] = Interop.EBUSY;
        v["ENOBUFS"] = Interop.ENOBUFS;
        return v;
    }
}
