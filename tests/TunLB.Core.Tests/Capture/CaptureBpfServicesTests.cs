using System.Buffers.Binary;
using CsCheck;
using TunLB.Core.Capture;
using TunLB.Core.Egress;
using TunLB.Core.Flows;
using TunLB.Core.Model;

namespace TunLB.Core.Tests.Capture;

/// <summary>The capture filter narrowed to service endpoints (VIP + protocol + port), run by a classic BPF interpreter.</summary>
public class CaptureBpfServicesTests
{
    private const int Tun = 9;

    /// <summary>The kernel's semantics for the instructions the filter uses (A, X; absolute, indirect and MSH loads relative to the network header).</summary>
    private static uint Run(BpfInstruction[] prog, byte[] net, uint pktType, uint ifindex, uint etherType)
    {
        uint a = 0, x = 0;
        for (int pc = 0, steps = 0; ; pc++, steps++)
        {
            Assert.InRange(pc, 0, prog.Length - 1);
            Assert.True(steps < 20_000, "loop");
            var i = prog[pc];
            int size = (i.Code & 0x18) switch { EgressBpf.BPF_W => 4, EgressBpf.BPF_H => 2, _ => 1 };
            switch (i.Code)
            {
                case EgressBpf.BPF_LD | EgressBpf.BPF_W | EgressBpf.BPF_ABS when i.K >= EgressBpf.SKF_AD_OFF:
                    a = i.K == EgressBpf.SKF_AD_OFF + EgressBpf.SKF_AD_PKTTYPE ? pktType
                      : i.K == EgressBpf.SKF_AD_OFF + CaptureBpf.SKF_AD_IFINDEX ? ifindex
                      : i.K == EgressBpf.SKF_AD_OFF + CaptureBpf.SKF_AD_PROTOCOL ? etherType
                      : throw new InvalidOperationException($"ancillary load 0x{i.K:x}");
                    break;
                case EgressBpf.BPF_LD | EgressBpf.BPF_W | EgressBpf.BPF_ABS:
                case EgressBpf.BPF_LD | EgressBpf.BPF_H | EgressBpf.BPF_ABS:
                case EgressBpf.BPF_LD | EgressBpf.BPF_B | EgressBpf.BPF_ABS:
                case EgressBpf.BPF_LD | EgressBpf.BPF_H | CaptureBpf.BPF_IND:
                {
                    long off = (long)(i.K - CaptureBpf.SKF_NET_OFF) + ((i.Code & 0xe0) == CaptureBpf.BPF_IND ? x : 0);
                    if (off < 0 || off + size > net.Length) return 0; // the kernel aborts with 0 on an out-of-bounds load
                    a = size == 4 ? BinaryPrimitives.ReadUInt32BigEndian(net.AsSpan((int)off))
                      : size == 2 ? BinaryPrimitives.ReadUInt16BigEndian(net.AsSpan((int)off)) : net[off];
                    break;
                }
                case CaptureBpf.BPF_LDX | EgressBpf.BPF_B | CaptureBpf.BPF_MSH:
                {
                    long off = i.K - CaptureBpf.SKF_NET_OFF;
                    if (off >= net.Length) return 0;
                    x = (uint)(net[off] & 0xf) * 4;
                    break;
                }
                case EgressBpf.BPF_JMP | EgressBpf.BPF_JEQ | EgressBpf.BPF_K: pc += a == i.K ? i.Jt : i.Jf; break;
                case EgressBpf.BPF_JMP | EgressBpf.BPF_JSET | EgressBpf.BPF_K: pc += (a & i.K) != 0 ? i.Jt : i.Jf; break;
                case EgressBpf.BPF_JMP | CaptureBpf.BPF_JA: pc += (int)i.K; break;
                case EgressBpf.BPF_RET | EgressBpf.BPF_K: return i.K;
                default: Assert.Fail($"unexpected opcode 0x{i.Code:x}"); break;
            }
        }
    }

    private static byte[] Packet(IpAddress dst, byte proto, ushort port, bool fragment, int options)
    {
        if (dst.IsV4)
        {
            int hl = 20 + 4 * options;
            var p = new byte[hl + 8];
            p[0] = (byte)(0x40 | hl / 4); p[9] = proto;
            if (fragment) p[6] = 0x20; // MF
            dst.WriteV4(p.AsSpan(16));
            BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(hl + 2), port);
            return p;
        }
        var q = new byte[48 + 8];
        q[0] = 0x60; q[6] = fragment ? (byte)44 : proto;
        dst.WriteV6(q.AsSpan(24));
        BinaryPrimitives.WriteUInt16BigEndian(q.AsSpan(42), port);
        return q;
    }

    private static readonly IpAddress[] Vips =
        [IpAddress.Parse("203.0.113.10"), IpAddress.Parse("203.0.113.11"), IpAddress.Parse("2001:db8::10"), IpAddress.Parse("2001:db8::11")];
    private static readonly byte[] Protocols = [6, 17, 132, 1, 58, 47];
    private static readonly ushort[] Ports = [0, 53, 80, 443, 8080];

    private static readonly Gen<ServiceKey> Key = Gen.Select(Gen.Int[0, Vips.Length - 1], Gen.Int[0, 2], Gen.Int[0, Ports.Length - 1])
        .Select((v, p, port) => new ServiceKey(Vips[v], Ports[port], Protocols[p]));

    [Fact]
    public void Takes_every_service_packet_and_leaves_other_ports_of_a_VIP_alone() =>
        Gen.Select(Key.Array[0, 8], Gen.Int[0, Vips.Length], Gen.Int[0, Protocols.Length - 1], Gen.Int[0, Ports.Length - 1], Gen.Bool, Gen.Int[0, 3])
            .Sample((keys, vi, pi, porti, fragment, options) =>
        {
            var endpoints = ServiceEndpoints.Of(keys);
            var prog = CaptureBpf.Build(endpoints, Tun, []);
            var dst = vi == Vips.Length ? IpAddress.Parse(pi % 2 == 0 ? "198.51.100.1" : "2001:db8::99") : Vips[vi];
            byte proto = Protocols[pi];
            ushort port = Ports[porti];
            bool isVip = endpoints.Vips.Contains(dst);
            bool portProtocol = proto is 6 or 17 or 132;
            uint r = Run(prog, Packet(dst, proto, port, fragment, dst.IsV4 ? options : 0), 0, 3, dst.IsV4 ? CaptureBpf.EtherTypeIPv4 : CaptureBpf.EtherTypeIPv6);
            bool expected = isVip && (fragment || !portProtocol || endpoints.Contains(dst, proto, port));
            Assert.Equal(expected, r != 0);
            // What the nftables drop takes (a service port, not a fragment) is always captured.
            if (!fragment && endpoints.Contains(dst, proto, port)) Assert.NotEqual(0u, r);
        }, iter: 5000);

    [Fact]
    public void Outgoing_health_checks_on_the_TUN_are_captured_and_other_interfaces_honoured()
    {
        var vip = Vips[0];
        var endpoints = ServiceEndpoints.Of([new ServiceKey(vip, 80, 6)]);
        var prog = CaptureBpf.Build(endpoints, Tun, [3]);
        var syn = Packet(vip, 6, 80, false, 0);
        Assert.NotEqual(0u, Run(prog, syn, EgressBpf.PACKET_OUTGOING, Tun, CaptureBpf.EtherTypeIPv4));
        Assert.Equal(0u, Run(prog, syn, EgressBpf.PACKET_OUTGOING, 3, CaptureBpf.EtherTypeIPv4));
        Assert.NotEqual(0u, Run(prog, syn, 0, 3, CaptureBpf.EtherTypeIPv4));
        Assert.Equal(0u, Run(prog, syn, 0, 4, CaptureBpf.EtherTypeIPv4));
        Assert.Equal(0u, Run(prog, Packet(vip, 6, 8080, false, 0), 0, 3, CaptureBpf.EtherTypeIPv4));
        Assert.Equal(0u, Run(prog, syn.AsSpan(0, 21).ToArray(), 0, 3, CaptureBpf.EtherTypeIPv4)); // truncated before the port
    }

    [Fact]
    public void Many_services_fit_and_too_many_are_refused()
    {
        var keys = Enumerable.Range(0, 300).Select(i => new ServiceKey(IpAddress.FromV4(0xC6120000u + (uint)(i / 2)), (ushort)(80 + i % 2), 6)).ToArray();
        var prog = CaptureBpf.Build(ServiceEndpoints.Of(keys), Tun, []);
        Assert.True(prog.Length <= CaptureBpf.MaxInstructions);
        Assert.Equal(6 + 6 + 1 + 150 * 20 + 2, prog.Length); // checks, dispatch, load; per IPv4 VIP with two TCP ports 11 + 5 + 2 x 2; two returns
        foreach (var k in keys) Assert.NotEqual(0u, Run(prog, Packet(k.Vip, 6, k.Port, false, 0), 0, 3, CaptureBpf.EtherTypeIPv4));
        var tooMany = Enumerable.Range(0, 2000).Select(i => new ServiceKey(IpAddress.FromV4(0xC6120000u + (uint)i), 80, 6));
        var e = Assert.Throws<ArgumentException>(() => CaptureBpf.Build(ServiceEndpoints.Of(tooMany), Tun, []));
        Assert.Contains("2000 service endpoints", e.Message);
    }
}
