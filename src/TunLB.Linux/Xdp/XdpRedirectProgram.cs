using System.Buffers.Binary;
using static TunLB.Linux.Interop;

namespace TunLB.Linux.Xdp;

/// <summary>
/// The XDP program, as raw eBPF instructions (the kernel here has no BTF, and nothing needs clang at run time): parse
/// Ethernet and at most one VLAN tag (802.1Q or 802.1ad), read the IPv4 or IPv6 destination, look it up in the VIP map of
/// its family, and for a VIP return <c>bpf_redirect_map(xsks, rx_queue_index, XDP_PASS)</c>: the AF_XDP socket bound to
/// the packet's receive queue, or XDP_PASS when that queue has no socket. Everything else gets XDP_PASS.
/// </summary>
/// <remarks>
/// Keys are the addresses as they appear in the packet: 4 bytes (IPv4 /32) in vips4, 16 bytes (IPv6 /128) in vips6.
/// Loads of packet data are host-order, so the EtherType constants are the network bytes read little-endian.
/// </remarks>
internal static class XdpRedirectProgram
{
    public const int EthernetHeaderLength = 14, VlanTagLength = 4;
    // As int of the 16-bit value: a jump's imm is sign-extended, a 16-bit load is zero-extended (0xDD86 must stay positive).
    private static readonly int EtherTypeIPv4 = Wire(0x0800), EtherTypeIPv6 = Wire(0x86DD),
        EtherTypeVlan = Wire(0x8100), EtherTypeQinQ = Wire(0x88A8);

    private static int Wire(ushort etherType) => BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(etherType) : etherType;

    private enum Label { Vlan, L3, V4, V6, Redirect, Pass }

    public static bpf_insn[] Build(int xsksMapFd, int vips4MapFd, int vips6MapFd)
    {
        var a = new Assembler();
        const byte Ctx = BPF_REG_6, Data = BPF_REG_2, End = BPF_REG_3, Tmp = BPF_REG_4, Proto = BPF_REG_5;
        int l3 = EthernetHeaderLength;

        a.MovReg(Ctx, BPF_REG_1);
        a.Load(BPF_W, Data, Ctx, 0);                       // xdp_md.data
        a.Load(BPF_W, End, Ctx, 4);                        // xdp_md.data_end
        a.CheckLength(Tmp, Data, End, EthernetHeaderLength, Label.Pass);
        a.Load(BPF_H, Proto, Data, 12);
        a.JumpIf(BPF_JEQ, Proto, EtherTypeVlan, Label.Vlan);
        a.JumpIf(BPF_JEQ, Proto, EtherTypeQinQ, Label.Vlan);
        a.Jump(Label.L3);

        a.Mark(Label.Vlan);                                // one tag: the inner EtherType, then L3 4 bytes later
        a.CheckLength(Tmp, Data, End, EthernetHeaderLength + VlanTagLength, Label.Pass);
        a.Load(BPF_H, Proto, Data, 16);
        a.AddImm(Data, VlanTagLength);

        a.Mark(Label.L3);                                  // Data + 14 is the IP header on both paths
        a.JumpIf(BPF_JEQ, Proto, EtherTypeIPv4, Label.V4);
        a.JumpIf(BPF_JEQ, Proto, EtherTypeIPv6, Label.V6);
        a.Jump(Label.Pass);

        a.Mark(Label.V4);                                  // key: the 4-byte destination at IPv4 offset 16
        a.CheckLength(Tmp, Data, End, l3 + 20, Label.Pass);
        a.Load(BPF_W, Tmp, Data, (short)(l3 + 16));
        a.Store(BPF_W, BPF_REG_10, -4, Tmp);
        a.LoadMapFd(BPF_REG_1, vips4MapFd);
        a.MovReg(BPF_REG_2, BPF_REG_10);
        a.AddImm(BPF_REG_2, -4);
        a.Call(BPF_FUNC_map_lookup_elem);
        a.JumpIf(BPF_JEQ, BPF_REG_0, 0, Label.Pass);
        a.Jump(Label.Redirect);

        a.Mark(Label.V6);                                  // key: the 16-byte destination at IPv6 offset 24
        a.CheckLength(Tmp, Data, End, l3 + 40, Label.Pass);
        a.Load(BPF_DW, Tmp, Data, (short)(l3 + 24));
        a.Store(BPF_DW, BPF_REG_10, -16, Tmp);
        a.Load(BPF_DW, Tmp, Data, (short)(l3 + 32));
        a.Store(BPF_DW, BPF_REG_10, -8, Tmp);
        a.LoadMapFd(BPF_REG_1, vips6MapFd);
        a.MovReg(BPF_REG_2, BPF_REG_10);
        a.AddImm(BPF_REG_2, -16);
        a.Call(BPF_FUNC_map_lookup_elem);
        a.JumpIf(BPF_JEQ, BPF_REG_0, 0, Label.Pass);

        a.Mark(Label.Redirect);
        a.Load(BPF_W, BPF_REG_2, Ctx, 16);                 // xdp_md.rx_queue_index
        a.LoadMapFd(BPF_REG_1, xsksMapFd);
        a.MovImm(BPF_REG_3, XDP_PASS);                     // no socket on this queue: the kernel stack gets it
        a.Call(BPF_FUNC_redirect_map);
        a.Exit();

        a.Mark(Label.Pass);
        a.MovImm(BPF_REG_0, XDP_PASS);
        a.Exit();
        return a.Finish();
    }

    /// <summary>Appends instructions and resolves forward jumps to labels.</summary>
    private sealed class Assembler
    {
        private readonly List<bpf_insn> _code = new(64);
        private readonly List<(int At, Label To)> _jumps = new();
        private readonly Dictionary<Label, int> _labels = new();

        public void Mark(Label label) => _labels.Add(label, _code.Count);
        public void MovReg(byte dst, byte src) => _code.Add(new(BPF_ALU64 | BPF_MOV | BPF_X, dst, src, 0, 0));
        public void MovImm(byte dst, int imm) => _code.Add(new(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm));
        public void AddImm(byte dst, int imm) => _code.Add(new(BPF_ALU64 | BPF_ADD | BPF_K, dst, 0, 0, imm));
        public void Load(byte size, byte dst, byte src, short off) => _code.Add(new((byte)(BPF_LDX | size | BPF_MEM), dst, src, off, 0));
        public void Store(byte size, byte dst, short off, byte src) => _code.Add(new((byte)(BPF_STX | size | BPF_MEM), dst, src, off, 0));
        public void Call(int helper) => _code.Add(new(BPF_JMP | BPF_CALL, 0, 0, 0, helper));
        public void Exit() => _code.Add(new(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));

        /// <summary>A 64-bit immediate load of a map fd (two instruction slots; the kernel swaps in the map's address).</summary>
        public void LoadMapFd(byte dst, int fd)
        {
            _code.Add(new(BPF_LD | BPF_DW | BPF_IMM, dst, BPF_PSEUDO_MAP_FD, 0, fd));
            _code.Add(new(0, 0, 0, 0, 0));
        }

        /// <summary>tmp = data + length; if tmp &gt; data_end goto fail (the verifier's packet bounds check).</summary>
        public void CheckLength(byte tmp, byte data, byte end, int length, Label fail)
        {
            MovReg(tmp, data);
            AddImm(tmp, length);
            _jumps.Add((_code.Count, fail));
            _code.Add(new(BPF_JMP | BPF_JGT | BPF_X, tmp, end, 0, 0));
        }

        public void JumpIf(byte op, byte reg, int imm, Label to)
        {
            _jumps.Add((_code.Count, to));
            _code.Add(new((byte)(BPF_JMP | op | BPF_K), reg, 0, 0, imm));
        }

        public void Jump(Label to)
        {
            _jumps.Add((_code.Count, to));
            _code.Add(new(BPF_JMP | BPF_JA, 0, 0, 0, 0));
        }

        public bpf_insn[] Finish()
        {
            var code = _code.ToArray();
            foreach (var (at, to) in _jumps) code[at].off = checked((short)(_labels[to] - at - 1));
            return code;
        }
    }
}
