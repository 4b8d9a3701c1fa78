using System.Buffers.Binary;
using TunLB.Core.Egress;
using static TunLB.Core.Tests.Egress.EgressPackets;

namespace TunLB.Core.Tests.Egress;

/// <summary>Runs the listener's classic BPF program in a small interpreter (the subset of cBPF it uses, as the kernel defines it).</summary>
public class EgressBpfTests
{
    /// <summary>Classic BPF semantics for LD ABS (W/H/B, ancillary pkt_type), ALU AND K, JEQ/JSET K, RET K. Out-of-bounds loads return 0 (drop).</summary>
    internal static uint Run(BpfInstruction[] prog, ReadOnlySpan<byte> packet, uint pktType = 0)
    {
        uint acc = 0;
        for (int pc = 0; pc < prog.Length; pc++)
        {
            var i = prog[pc];
            switch (i.Code)
            {
                case EgressBpf.BPF_LD | EgressBpf.BPF_W | EgressBpf.BPF_ABS:
                    if (i.K == EgressBpf.SKF_AD_OFF + EgressBpf.SKF_AD_PKTTYPE) { acc = pktType; break; }
                    if (i.K + 4 > packet.Length) return 0;
                    acc = BinaryPrimitives.ReadUInt32BigEndian(packet.Slice((int)i.K)); break;
                case EgressBpf.BPF_LD | EgressBpf.BPF_H | EgressBpf.BPF_ABS:
                    if (i.K + 2 > packet.Length) return 0;
                    acc = BinaryPrimitives.ReadUInt16BigEndian(packet.Slice((int)i.K)); break;
                case EgressBpf.BPF_LD | EgressBpf.BPF_B | EgressBpf.BPF_ABS:
                    if (i.K + 1 > packet.Length) return 0;
                    acc = packet[(int)i.K]; break;
                case EgressBpf.BPF_ALU | EgressBpf.BPF_AND | EgressBpf.BPF_K: acc &= i.K; break;
                case EgressBpf.BPF_JMP | EgressBpf.BPF_JEQ | EgressBpf.BPF_K: pc += acc == i.K ? i.Jt : i.Jf; break;
                case EgressBpf.BPF_JMP | EgressBpf.BPF_JSET | EgressBpf.BPF_K: pc += (acc & i.K) != 0 ? i.Jt : i.Jf; break;
                case EgressBpf.BPF_RET | EgressBpf.BPF_K: return i.K;
                default: throw new InvalidOperationException($"opcode 0x{i.Code:x2} not in the interpreter");
            }
        }
        throw new InvalidOperationException("fell off the end of the program");
    }

    private static readonly BpfInstruction[] Prog = EgressBpf.IcmpTo(A(Vip));

    [Fact]
    public void Accepts_icmp_to_the_vip()
    {
        Assert.Equal(EgressBpf.SnapLength, Run(Prog, IcmpError("198.18.2.1", 11, 0, Probe(Vip, 1, 0))));
        Assert.Equal(EgressBpf.SnapLength, Run(Prog, IcmpError(Target, 3, 3, Probe(Vip, 1, 0))));
        // Any ICMP to the VIP passes the filter (echo too); matching a probe is the recorder's job.
        Assert.Equal(EgressBpf.SnapLength, Run(Prog, IcmpError(Target, 0, 0, Probe(Vip, 1, 0))));
    }

    [Fact]
    public void Drops_everything_else()
    {
        var ok = IcmpError("198.18.2.1", 11, 0, Probe(Vip, 1, 0));
        Assert.Equal(0u, Run(Prog, ok, pktType: EgressBpf.PACKET_OUTGOING));
        Assert.Equal(0u, Run(Prog, IcmpError("198.18.2.1", 11, 0, Probe(RealServer, 1, 0)))); // to another host
        Assert.Equal(0u, Run(Prog, Probe(Vip, 1, 0)));                                         // UDP
        var fromVip = Probe(Target, 1, 0); // UDP to the target; make it ICMP *from* the VIP
        var frag = (byte[])ok.Clone(); frag[6] = 0x20;                                         // MF
        Assert.Equal(0u, Run(Prog, frag));
        var later = (byte[])ok.Clone(); later[7] = 0x10;                                        // offset
        Assert.Equal(0u, Run(Prog, later));
        var v6 = (byte[])ok.Clone(); v6[0] = 0x60;
        Assert.Equal(0u, Run(Prog, v6));
        Assert.Equal(0u, Run(Prog, ok.AsSpan(0, 10)));                                         // truncated
        Assert.Equal(0u, Run(Prog, fromVip));
        // Host, broadcast, multicast and other-host packet types are all incoming and pass.
        foreach (uint t in new uint[] { 0, 1, 2, 3 }) Assert.Equal(EgressBpf.SnapLength, Run(Prog, ok, t));
    }

    [Fact]
    public void Jumps_stay_inside_the_program_and_end_in_returns()
    {
        for (int pc = 0; pc < Prog.Length; pc++)
        {
            var i = Prog[pc];
            if ((i.Code & 0x07) == EgressBpf.BPF_JMP)
            {
                Assert.InRange(pc + 1 + i.Jt, 0, Prog.Length - 1);
                Assert.InRange(pc + 1 + i.Jf, 0, Prog.Length - 1);
            }
        }
        Assert.Equal(EgressBpf.BPF_RET, Prog[^1].Code & 0x07);
        Assert.Equal(EgressBpf.BPF_RET, Prog[^2].Code & 0x07);
    }
}
