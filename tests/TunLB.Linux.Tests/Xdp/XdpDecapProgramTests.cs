using TunLB.Linux.Xdp;

namespace TunLB.Linux.Tests.Xdp;

/// <summary>The decapsulation program's instruction stream, without the kernel (XdpDecapTests runs it).</summary>
public sealed class XdpDecapProgramTests
{
    private static readonly Interop.bpf_insn[] Code = XdpDecapProgram.Build(directors4MapFd: 201, locals4MapFd: 202, vips4MapFd: 203, countersMapFd: 204);

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
        Assert.Equal(110, Code.Length); // the startup line reports this count
    }

    [Fact]
    public void Maps_are_looked_up_in_filter_order_and_the_head_is_adjusted_once_by_the_outer_header()
    {
        var maps = Code.Where(c => c.code == (Interop.BPF_LD | Interop.BPF_DW | Interop.BPF_IMM)).Select(c => c.imm).ToArray();
        Assert.Equal(new[] { 201, 202, 203, 204 }, maps);   // director, local address, VIP, then the counters
        var calls = Code.Select((c, i) => (c, i)).Where(x => x.c.code == (Interop.BPF_JMP | Interop.BPF_CALL)).ToArray();
        Assert.Single(calls, x => x.c.imm == Interop.BPF_FUNC_xdp_adjust_head);
        var adjust = calls.Single(x => x.c.imm == Interop.BPF_FUNC_xdp_adjust_head).i;
        Assert.Equal(XdpDecapProgram.OuterHeaderLength, Code[adjust - 1].imm); // r2 = 20 right before the call
        // Every lookup comes before the adjust but the counters': nothing is stripped before the filter has passed.
        Assert.Equal(3, calls.Count(x => x.c.imm == Interop.BPF_FUNC_map_lookup_elem && x.i < adjust));
    }
}
