using System.Runtime.InteropServices;

namespace TunLB.Linux;

/// <summary>
/// The members of &lt;linux/bpf.h&gt;'s union bpf_attr that TunLB uses, one struct per command (the union's anonymous
/// structs), each only as long as the fields we set: the kernel accepts a shorter attr and zero-fills the rest.
/// </summary>
internal static unsafe partial class Interop
{
    // enum bpf_map_type
    internal const uint BPF_MAP_TYPE_HASH = 1;
    internal const uint BPF_MAP_TYPE_PERCPU_ARRAY = 6;
    internal const uint BPF_MAP_TYPE_XSKMAP = 17;
    // enum bpf_prog_type
    internal const uint BPF_PROG_TYPE_XDP = 6;
    // enum bpf_attach_type
    internal const uint BPF_XDP = 37;
    // BPF_MAP_UPDATE_ELEM flags
    internal const ulong BPF_ANY = 0;
    internal const int BPF_OBJ_NAME_LEN = 16;

    // <linux/if_link.h> XDP attach modes (BPF_LINK_CREATE flags for BPF_XDP)
    internal const uint XDP_FLAGS_SKB_MODE = 1 << 1;
    internal const uint XDP_FLAGS_DRV_MODE = 1 << 2;

    /// <summary>The BPF_MAP_CREATE struct of union bpf_attr (through map_ifindex).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct bpf_attr_map_create
    {
        public uint map_type;
        public uint key_size;
        public uint value_size;
        public uint max_entries;
        public uint map_flags;
        public uint inner_map_fd;
        public uint numa_node;
        public fixed byte map_name[BPF_OBJ_NAME_LEN];
        public uint map_ifindex;
    }

    /// <summary>The BPF_MAP_*_ELEM struct of union bpf_attr: key and value are user pointers as __aligned_u64.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct bpf_attr_map_elem
    {
        public uint map_fd;
        public ulong key;
        public ulong value;
        public ulong flags;
    }

    /// <summary>The BPF_PROG_LOAD struct of union bpf_attr (through expected_attach_type).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct bpf_attr_prog_load
    {
        public uint prog_type;
        public uint insn_cnt;
        public ulong insns;
        public ulong license;
        public uint log_level;
        public uint log_size;
        public ulong log_buf;
        public uint kern_version;
        public uint prog_flags;
        public fixed byte prog_name[BPF_OBJ_NAME_LEN];
        public uint prog_ifindex;
        public uint expected_attach_type;
    }

    /// <summary>union bpf_attr's link_create struct (through flags; target_ifindex shares its slot with target_fd).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct bpf_attr_link_create
    {
        public uint prog_fd;
        public uint target_ifindex;
        public uint attach_type;
        public uint flags;
    }
}
