using System.Buffers.Binary;
using CsCheck;
using TunLB.Core.Capture;
using TunLB.Core.Egress;
using TunLB.Core.Flows;

namespace TunLB.Core.Tests.Capture;

public class CaptureBpfTests
{
    private const int Tun = 9;

    /// <summary>A classic BPF interpreter for the instructions the capture filter uses (the kernel's semantics).</summary>
    internal static uint Run(BpfInstruction[] prog, byte[] net, uint pktType, uint ifindex, uint etherType)
    {
        uint a = 0;
        for (int pc = 0, steps = 0; ; pc++, steps++)
        {
            Assert.InRange(pc, 0, prog.Length - 1);
            Assert.True(steps < 10_000, "loop");
            var i = prog[pc];
            switch (i.Code)
            {
                case EgressBpf.BPF_LD | EgressBpf.BPF_W | EgressBpf.BPF_ABS:
                    if (i.K == EgressBpf.SKF_AD_OFF + EgressBpf.SKF_AD_PKTTYPE) a = pktType;
                    else if (i.K == EgressBpf.SKF_AD_OFF + CaptureBpf.SKF_AD_IFINDEX) a = ifindex;
                    else if (i.K == EgressBpf.SKF_AD_OFF + CaptureBpf.SKF_AD_PROTOCOL) a = etherType;
                    else
                    {
                        Assert.True(i.K >= CaptureBpf.SKF_NET_OFF && i.K < EgressBpf.SKF_AD_OFF, $"unexpected load 0x{i.K:x}");
                        int off = (int)(i.K - CaptureBpf.SKF_NET_OFF);
                        if (off + 4 > net.Length) return 0; // the kernel aborts with 0 on an out-of-bounds load
                        a = BinaryPrimitives.ReadUInt32BigEndian(net.AsSpan(off));
                    }
                    break;
                case EgressBpf.BPF_JMP | EgressBpf.BPF_JEQ | EgressBpf.BPF_K:
                    pc += a == i.K ? i.Jt : i.Jf;
                    break;
                case EgressBpf.BPF_JMP | CaptureBpf.BPF_JA:
                    pc += (int)i.K;
                    break;
                case EgressBpf.BPF_RET | EgressBpf.BPF_K:
                    return i.K;
                default:
                    Assert.Fail($"unexpected opcode 0x{i.Code:x}");
                    break;
            }
        }
    }

    private static byte[] V4(IpAddress dst) { var p = new byte[40]; p[0] = 0x45; dst.WriteV4(p.AsSpan(16)); return p; }
    private static byte[] V6(IpAddress dst) { var p = new byte[60]; p[0] = 0x60; dst.WriteV6(p.AsSpan(24)); return p; }
    private static byte[] Packet(IpAddress a) => a.IsV4 ? V4(a) : V6(a);
    private static uint Eth(IpAddress a) => a.IsV4 ? CaptureBpf.EtherTypeIPv4 : CaptureBpf.EtherTypeIPv6;

    private static readonly Gen<IpAddress> Addr = Gen.Frequency(
        (3, Gen.UInt.Select(IpAddress.FromV4)),
        (1, Gen.Select(Gen.ULong, Gen.ULong).Select((h, l) => new IpAddress(h | 1UL << 60, l))));

    [Fact]
    public void Accepts_exactly_incoming_VIP_packets_and_outgoing_ones_on_the_TUN() =>
        Gen.Select(Addr.Array[0, 40], Gen.Int[1, 8].Array[0, 3], Addr, Gen.UInt[0, 7], Gen.UInt[1, 12]).Sample((vips, ifs, dst, pktType, ifx) =>
        {
            var prog = CaptureBpf.Build(vips, Tun, ifs);
            Assert.Equal(CaptureBpf.Length(vips.Where(v => v.IsV4).Distinct().Count(), vips.Where(v => !v.IsV4).Distinct().Count(), ifs.Length), prog.Length);
            bool isVip = vips.Contains(dst);
            bool ifOk = pktType == 4 ? ifx == Tun : pktType == 0 && (ifs.Length == 0 || ifs.Contains((int)ifx));
            uint r = Run(prog, Packet(dst), pktType, ifx, Eth(dst));
            Assert.Equal(isVip && ifOk, r != 0);
            // The same bytes under another EtherType are never accepted.
            Assert.Equal(0u, Run(prog, Packet(dst), pktType, ifx, 0x0806));
        }, iter: 3000);

    [Fact]
    public void Every_VIP_of_a_large_set_is_accepted_and_the_limit_is_enforced()
    {
        var vips = Enumerable.Range(0, 1500).Select(i => IpAddress.FromV4(0xC6120000u + (uint)i))
            .Concat(Enumerable.Range(0, 100).Select(i => IpAddress.Parse($"2001:db8::{i + 1:x}"))).ToArray();
        var prog = CaptureBpf.Build(vips, Tun, []);
        Assert.True(prog.Length <= CaptureBpf.MaxInstructions);
        foreach (var v in vips) Assert.NotEqual(0u, Run(prog, Packet(v), 0, 3, Eth(v)));
        Assert.Equal(0u, Run(prog, V4(IpAddress.FromV4(0xC6130000u)), 0, 3, CaptureBpf.EtherTypeIPv4));
        Assert.Equal(0u, Run(prog, V6(IpAddress.Parse("2001:db8::ffff")), 0, 3, CaptureBpf.EtherTypeIPv6));
        var tooMany = Enumerable.Range(0, 2100).Select(i => IpAddress.FromV4(0xC6120000u + (uint)i));
        var e = Assert.Throws<ArgumentException>(() => CaptureBpf.Build(tooMany, Tun, []));
        Assert.Contains("2100 IPv4", e.Message);
    }

    [Fact]
    public void Truncated_network_headers_are_rejected()
    {
        var vip = IpAddress.Parse("203.0.113.10");
        var prog = CaptureBpf.Build([vip], Tun, []);
        Assert.Equal(0u, Run(prog, V4(vip).AsSpan(0, 18).ToArray(), 0, 3, CaptureBpf.EtherTypeIPv4));
        Assert.NotEqual(0u, Run(prog, V4(vip), 0, 3, CaptureBpf.EtherTypeIPv4));
    }
}
