using static TunLB.Linux.Interop;

namespace TunLB.Linux.Xdp;

/// <summary>
/// Appends eBPF instructions and resolves forward jumps to labels (an enum of the program's own): what the XDP programs
/// (<see cref="XdpRedirectProgram"/>, <see cref="XdpDecapProgram"/>) are written with.
/// </summary>
internal sealed class BpfAssembler<TLabel> where TLabel : struct, Enum
{
    private readonly List<bpf_insn> _code = new(64);
    private readonly List<(int At, TLabel To)> _jumps = new();
    private readonly Dictionary<TLabel, int> _labels = new();

    public void Mark(TLabel label) => _labels.Add(label, _code.Count);
    public void MovReg(byte dst, byte src) => _code.Add(new(BPF_ALU64 | BPF_MOV | BPF_X, dst, src, 0, 0));
    public void MovImm(byte dst, int imm) => _code.Add(new(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm));
    public void AddImm(byte dst, int imm) => _code.Add(new(BPF_ALU64 | BPF_ADD | BPF_K, dst, 0, 0, imm));
    public void AddReg(byte dst, byte src) => _code.Add(new(BPF_ALU64 | BPF_ADD | BPF_X, dst, src, 0, 0));
    public void AndImm(byte dst, int imm) => _code.Add(new(BPF_ALU64 | BPF_AND | BPF_K, dst, 0, 0, imm));
    public void ShiftLeft(byte dst, int bits) => _code.Add(new(BPF_ALU64 | BPF_LSH | BPF_K, dst, 0, 0, bits));
    public void ShiftRight(byte dst, int bits) => _code.Add(new(BPF_ALU64 | BPF_RSH | BPF_K, dst, 0, 0, bits));
    /// <summary>dst = htobe16(dst): the low 16 bits byte-swapped on a little-endian host, zero-extended.</summary>
    public void ToBigEndian16(byte dst) => _code.Add(new(BPF_ALU | BPF_END | BPF_TO_BE, dst, 0, 0, 16));
    public void StoreImm(byte size, byte dst, short off, int imm) => _code.Add(new((byte)(BPF_ST | size | BPF_MEM), dst, 0, off, imm));

    /// <summary>r0 = bpf_map_lookup_elem(map, fp + keyAt). Clobbers r1-r5.</summary>
    public void Lookup(int mapFd, short keyAt)
    {
        LoadMapFd(BPF_REG_1, mapFd);
        MovReg(BPF_REG_2, BPF_REG_10);
        AddImm(BPF_REG_2, keyAt);
        Call(BPF_FUNC_map_lookup_elem);
    }

    /// <summary>
    /// Completes the service key on the stack (the address is already there) with <paramref name="port"/> and
    /// <paramref name="proto"/>, looks it up, then with port 0 (a service of all ports); a hit jumps to <paramref name="hit"/>.
    /// </summary>
    public void ServiceLookups(int mapFd, short keyAt, short portAt, byte port, byte proto, TLabel hit)
    {
        Store(BPF_H, BPF_REG_10, portAt, port);
        Store(BPF_B, BPF_REG_10, (short)(portAt + 2), proto);
        StoreImm(BPF_B, BPF_REG_10, (short)(portAt + 3), 0);
        Lookup(mapFd, keyAt);
        JumpIf(BPF_JNE, BPF_REG_0, 0, hit);
        StoreImm(BPF_H, BPF_REG_10, portAt, 0);
        Lookup(mapFd, keyAt);
        JumpIf(BPF_JNE, BPF_REG_0, 0, hit);
    }
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
    public void CheckLength(byte tmp, byte data, byte end, int length, TLabel fail)
    {
        MovReg(tmp, data);
        AddImm(tmp, length);
        _jumps.Add((_code.Count, fail));
        _code.Add(new(BPF_JMP | BPF_JGT | BPF_X, tmp, end, 0, 0));
    }

    public void JumpIf(byte op, byte reg, int imm, TLabel to)
    {
        _jumps.Add((_code.Count, to));
        _code.Add(new((byte)(BPF_JMP | op | BPF_K), reg, 0, 0, imm));
    }

    public void Jump(TLabel to)
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
