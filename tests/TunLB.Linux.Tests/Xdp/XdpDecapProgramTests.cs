using TunLB.Linux.Xdp;

namespace TunLB.Linux.Tests.Xdp;

/// <summary>The decapsulation program's instruction stream, without the kernel (XdpDecapTests runs it).</summary>
public sealed class XdpDecapProgramTests
{
    private static readonly Interop.bpf_insn[] Code = XdpDecapProgram.Build(directors4MapFd: 201, locals4MapFd: 202, vips4MapFd: 203,
        directors6MapFd: 211, locals6MapFd: 212, vips6MapFd: 213, countersMapFd: 204);

    [Fact]
    public void Every_jump_lands_inside_and_the_program_ends_in_pass()
    {
        for (int i = 0; i < Code.Length; i++)
        {
            var c = Code[i];
            if ((c.code & 0x07) != Interop.BPF_JMP || (c.code & 0xf0) is Interop.BPF_CALL or Interop.BPF_EXIT) continue;
            Assert.InRange(i + 1 + c.off, 0, Code.Length - 1);
        }
        Assert.Equal(Interop.BPF_JMP | Interop.BPF_EXIT, Code[^1].code);
        Assert.Equal(Interop.XDP_PASS, Code[^2].imm);
    }

    [Fact]
    public void Maps_are_looked_up_in_filter_order_and_the_head_is_adjusted_once()
    {
        var maps = Code.Where(c => c.code == (Interop.BPF_LD | Interop.BPF_DW | Interop.BPF_IMM)).Select(c => c.imm).ToArray();
        // IPv4 outer: director, local address; IPv6 outer: the same; then the VIP of the inner family on each of the four
        // paths (4 in 4, 6 in 4, 4 in 6, 6 in 6); then the counters.
        Assert.Equal(new[] { 201, 202, 211, 212, 203, 213, 203, 213, 204 }, maps);
        var calls = Code.Select((c, i) => (c, i)).Where(x => x.c.code == (Interop.BPF_JMP | Interop.BPF_CALL)).ToArray();
        var adjust = Assert.Single(calls, x => x.c.imm == Interop.BPF_FUNC_xdp_adjust_head).i;
        // r2 = r9 right before the call: the outer header's length, set to 20 or 40 on the two outer paths.
        Assert.Equal((byte)(Interop.BPF_ALU64 | Interop.BPF_MOV | Interop.BPF_X), Code[adjust - 1].code);
        var lengths = Code.Where(c => c.code == (Interop.BPF_ALU64 | Interop.BPF_MOV | Interop.BPF_K) && (c.regs & 0xf) == Interop.BPF_REG_9).Select(c => c.imm);
        Assert.Equal(new[] { XdpDecapProgram.OuterHeaderLength, XdpDecapProgram.OuterHeaderLength6 }, lengths);
        // Every lookup comes before the adjust but the counters': nothing is stripped before the filter has passed.
        Assert.Equal(8, calls.Count(x => x.c.imm == Interop.BPF_FUNC_map_lookup_elem && x.i < adjust));
    }

    [Fact]
    public void With_a_gue_port_the_four_gue_paths_look_up_their_vip_and_strip_32_or_28_bytes()
    {
        var code = XdpDecapProgram.Build(201, 202, 203, 211, 212, 213, 204, guePort: 6080);
        var maps = code.Where(c => c.code == (Interop.BPF_LD | Interop.BPF_DW | Interop.BPF_IMM)).Select(c => c.imm).ToArray();
        // The IP-in-IP paths as without GUE, then GUE variant 0 (IPv4, IPv6 inside) and variant 1 (IPv4, IPv6 inside).
        Assert.Equal(new[] { 201, 202, 211, 212, 203, 213, 203, 213, 203, 213, 203, 213, 204 }, maps);
        var lengths = code.Where(c => c.code == (Interop.BPF_ALU64 | Interop.BPF_MOV | Interop.BPF_K) && (c.regs & 0xf) == Interop.BPF_REG_9).Select(c => c.imm);
        Assert.Equal(new[] { XdpDecapProgram.OuterHeaderLength, XdpDecapProgram.GueHeadersLength0, XdpDecapProgram.GueHeadersLength1, XdpDecapProgram.OuterHeaderLength6 }, lengths);
        // The port is compared in network byte order as loaded (6080 = 0x17C0, read little-endian as 0xC017).
        Assert.Contains(code, c => c.code == (Interop.BPF_JMP | Interop.BPF_JNE | Interop.BPF_K) && c.imm == 0xC017);
        Assert.True(code.Length > Code.Length);
    }
}

