using System.Runtime.InteropServices;

namespace TunLB.Linux;

/// <summary>eBPF instructions (&lt;linux/bpf.h&gt;, &lt;linux/bpf_common.h&gt;; the kernel's Documentation/bpf/standardization/instruction-set.rst).</summary>
internal static partial class Interop
{
    // Instruction classes
    internal const byte BPF_LD = 0x00;
    internal const byte BPF_LDX = 0x01;
    internal const byte BPF_ST = 0x02;
    internal const byte BPF_STX = 0x03;
    internal const byte BPF_ALU = 0x04;
    internal const byte BPF_JMP = 0x05;
    internal const byte BPF_ALU64 = 0x07;
    // Sizes and modes (loads and stores)
    internal const byte BPF_W = 0x00;
    internal const byte BPF_H = 0x08;
    internal const byte BPF_B = 0x10;
    internal const byte BPF_DW = 0x18;
    internal const byte BPF_IMM = 0x00;
    internal const byte BPF_MEM = 0x60;
    // Operand source
    internal const byte BPF_K = 0x00;
    internal const byte BPF_X = 0x08;
    // ALU operations
    internal const byte BPF_ADD = 0x00;
    internal const byte BPF_AND = 0x50;
    internal const byte BPF_LSH = 0x60;
    internal const byte BPF_RSH = 0x70;
    internal const byte BPF_MOV = 0xb0;
    internal const byte BPF_END = 0xd0;
    internal const byte BPF_TO_BE = 0x08;
    // Jump operations
    internal const byte BPF_JA = 0x00;
    internal const byte BPF_JEQ = 0x10;
    internal const byte BPF_JGT = 0x20;
    internal const byte BPF_JSET = 0x40;
    internal const byte BPF_JNE = 0x50;
    internal const byte BPF_CALL = 0x80;
    internal const byte BPF_EXIT = 0x90;
    // src_reg of a 64-bit immediate load whose imm is a map fd
    internal const byte BPF_PSEUDO_MAP_FD = 1;
    // Registers
    internal const byte BPF_REG_0 = 0, BPF_REG_1 = 1, BPF_REG_2 = 2, BPF_REG_3 = 3, BPF_REG_4 = 4, BPF_REG_5 = 5,
        BPF_REG_6 = 6, BPF_REG_7 = 7, BPF_REG_8 = 8, BPF_REG_9 = 9, BPF_REG_10 = 10;
    // enum bpf_func_id
    internal const int BPF_FUNC_map_lookup_elem = 1;
    internal const int BPF_FUNC_xdp_adjust_head = 44;
    internal const int BPF_FUNC_redirect_map = 51;
    // enum xdp_action
    internal const int XDP_ABORTED = 0;
    internal const int XDP_DROP = 1;
    internal const int XDP_PASS = 2;
    internal const int XDP_REDIRECT = 4;

    /// <summary>
    /// struct bpf_insn. <see cref="regs"/> holds the C bit-fields dst_reg:4 and src_reg:4; on little-endian targets
    /// dst_reg is the low nibble.
    /// </summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct bpf_insn
    {
        public byte code;
        public byte regs;
        public short off;
        public int imm;

        public bpf_insn(byte code, byte dst, byte src, short off, int imm)
        {
            this.code = code;
            regs = (byte)((src << 4) | (dst & 0xf));
            this.off = off;
            this.imm = imm;
        }

        public readonly byte dst_reg => (byte)(regs & 0xf);
        public readonly byte src_reg => (byte)(regs >> 4);
    }

    /// <summary>struct xdp_md: the XDP program's context (what R1 points to); offsets are what the program loads.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct xdp_md
    {
        public uint data;
        public uint data_end;
        public uint data_meta;
        public uint ingress_ifindex;
        public uint rx_queue_index;
        public uint egress_ifindex;
    }
}
