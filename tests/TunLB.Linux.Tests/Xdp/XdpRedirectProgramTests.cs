using TunLB.Linux.Xdp;

namespace TunLB.Linux.Tests.Xdp;

/// <summary>The instruction stream itself, without the kernel (the namespace tests run it).</summary>
public sealed class XdpRedirectProgramTests
{
    private static readonly Interop.bpf_insn[] Code = XdpRedirectProgram.Build(xsksMapFd: 101, vips4MapFd: 102, vips6MapFd: 103, services4MapFd: 104, services6MapFd: 105);

    [Fact]
    public void Every_jump_lands_inside_the_program_and_both_exits_are_reachable_ends()
    {
        for (int i = 0; i < Code.Length; i++)
        {
            var c = Code[i];
            if ((c.code & 0x07) != Interop.BPF_JMP || (c.code & 0xf0) is Interop.BPF_CALL or Interop.BPF_EXIT) continue;
            int target = i + 1 + c.off;
            Assert.InRange(target, 0, Code.Length - 1);
        }
        Assert.Equal(Interop.BPF_JMP | Interop.BPF_EXIT, Code[^1].code);
        Assert.Equal(Interop.XDP_PASS, Code[^2].imm); // the shared "pass" tail: r0 = XDP_PASS; exit
    }

    [Fact]
    public void Compare_immediates_are_the_zero_extended_16_bit_values_a_packet_load_yields()
    {
        // A jump's imm is sign-extended to 64 bits; a 16-bit load is zero-extended: 0xDD86 (IPv6 read little-endian)
        // as a negative short would never match.
        var ethertypes = Code.Where(c => c.code == (Interop.BPF_JMP | Interop.BPF_JEQ | Interop.BPF_K) && c.imm != 0).Select(c => c.imm).ToArray();
        // Then the protocols of a VIP with services: TCP and UDP (IPv4), a fragment header, TCP and UDP (IPv6).
        Assert.Equal(new[] { 0x0081, 0xA888, 0x0008, 0xDD86, 6, 17, 44, 6, 17 }, ethertypes);
    }

    [Fact]
    public void Maps_are_referenced_by_pseudo_map_fd_loads()
    {
        var loads = Code.Select((c, i) => (c, i)).Where(x => x.c.code == (Interop.BPF_LD | Interop.BPF_DW | Interop.BPF_IMM)).ToArray();
        // The VIP map, then the service map twice (port, then port 0), per family; the socket map last.
        Assert.Equal(new[] { 102, 104, 104, 103, 105, 105, 101 }, loads.Select(x => x.c.imm));
        Assert.All(loads, x =>
        {
            Assert.Equal(Interop.BPF_PSEUDO_MAP_FD, x.c.src_reg);
            Assert.Equal(1, x.c.dst_reg);
            Assert.Equal(default, Code[x.i + 1]); // second half of the 16-byte instruction
        });
        Assert.Equal(112, Code.Length); // stated in Xdp/README.md
    }
}
