using System.Runtime.InteropServices;

namespace TunLB.Core.Egress;

/// <summary>One classic BPF instruction; the layout of the kernel's <c>struct sock_filter</c> (&lt;linux/filter.h&gt;).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct BpfInstruction
{
    public ushort Code;
    public byte Jt;
    public byte Jf;
    public uint K;

    public BpfInstruction(ushort code, byte jt, byte jf, uint k) { Code = code; Jt = jt; Jf = jf; K = k; }

    public override readonly string ToString() => $"{{ 0x{Code:x2}, {Jt}, {Jf}, 0x{K:x8} }}";
}

/// <summary>
/// The classic BPF program `tunlb egress-listen` attaches to its AF_PACKET socket (SOCK_DGRAM, ETH_P_IP, so offset 0 is
/// the IPv4 header). It is "icmp and dst host VIP" plus three refinements: only IPv4, no fragments (an ICMP error is
/// never fragmented in practice, and a fragment cannot be parsed), and no packets the host itself sends (a TunLB
/// director forwards ICMP to the VIP into its TUN device, where AF_PACKET would see it a second time as outgoing).
/// </summary>
public static class EgressBpf
{
    // <linux/bpf_common.h>, <linux/filter.h>
    public const ushort BPF_LD = 0x00, BPF_ALU = 0x04, BPF_JMP = 0x05, BPF_RET = 0x06;
    public const ushort BPF_W = 0x00, BPF_H = 0x08, BPF_B = 0x10;
    public const ushort BPF_ABS = 0x20;
    public const ushort BPF_AND = 0x50;
    public const ushort BPF_JEQ = 0x10, BPF_JSET = 0x40;
    public const ushort BPF_K = 0x00;
    public const uint SKF_AD_OFF = unchecked((uint)-0x1000);
    public const uint SKF_AD_PKTTYPE = 4;
    /// <summary>&lt;linux/if_packet.h&gt; PACKET_OUTGOING.</summary>
    public const uint PACKET_OUTGOING = 4;
    /// <summary>Bytes of an accepted packet to keep (the whole packet, as tcpdump does).</summary>
    public const uint SnapLength = 262144;

    /// <summary>The filter for ICMP to <paramref name="vip"/> (IPv4, host order).</summary>
    public static BpfInstruction[] IcmpTo(uint vip) =>
    [
        /* 0 */ new(BPF_LD | BPF_W | BPF_ABS, 0, 0, SKF_AD_OFF + SKF_AD_PKTTYPE), // A = skb->pkt_type
        /* 1 */ new(BPF_JMP | BPF_JEQ | BPF_K, 10, 0, PACKET_OUTGOING),          // outgoing → drop
        /* 2 */ new(BPF_LD | BPF_B | BPF_ABS, 0, 0, 0),                          // A = version/IHL
        /* 3 */ new(BPF_ALU | BPF_AND | BPF_K, 0, 0, 0xF0),
        /* 4 */ new(BPF_JMP | BPF_JEQ | BPF_K, 0, 7, 0x40),                     // not IPv4 → drop
        /* 5 */ new(BPF_LD | BPF_B | BPF_ABS, 0, 0, 9),                          // A = protocol
        /* 6 */ new(BPF_JMP | BPF_JEQ | BPF_K, 0, 5, 1),                        // not ICMP → drop
        /* 7 */ new(BPF_LD | BPF_H | BPF_ABS, 0, 0, 6),                          // A = flags/fragment offset
        /* 8 */ new(BPF_JMP | BPF_JSET | BPF_K, 3, 0, 0x3FFF),                  // MF or offset → drop
        /* 9 */ new(BPF_LD | BPF_W | BPF_ABS, 0, 0, 16),                         // A = destination
        /*10 */ new(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, vip),                      // not the VIP → drop
        /*11 */ new(BPF_RET | BPF_K, 0, 0, SnapLength),
        /*12 */ new(BPF_RET | BPF_K, 0, 0, 0),
    ];

    /// <summary>
    /// The IPv6 filter (socket bound to ETH_P_IPV6): "icmp6 and dst host VIP", not outgoing, ICMPv6 directly after the
    /// fixed header (an extension header in front of an ICMPv6 error is not expected and not parsed).
    /// </summary>
    public static BpfInstruction[] Icmp6To(Flows.IpAddress vip)
    {
        if (vip.IsV4) throw new ArgumentException("IPv6 VIP expected", nameof(vip));
        uint w0 = (uint)(vip.Hi >> 32), w1 = (uint)vip.Hi, w2 = (uint)(vip.Lo >> 32), w3 = (uint)vip.Lo;
        return
        [
            /* 0 */ new(BPF_LD | BPF_W | BPF_ABS, 0, 0, SKF_AD_OFF + SKF_AD_PKTTYPE),
            /* 1 */ new(BPF_JMP | BPF_JEQ | BPF_K, 14, 0, PACKET_OUTGOING),          // outgoing → drop
            /* 2 */ new(BPF_LD | BPF_B | BPF_ABS, 0, 0, 0),                          // A = version/traffic class
            /* 3 */ new(BPF_ALU | BPF_AND | BPF_K, 0, 0, 0xF0),
            /* 4 */ new(BPF_JMP | BPF_JEQ | BPF_K, 0, 11, 0x60),                    // not IPv6 → drop
            /* 5 */ new(BPF_LD | BPF_B | BPF_ABS, 0, 0, 6),                          // A = next header
            /* 6 */ new(BPF_JMP | BPF_JEQ | BPF_K, 0, 9, 58),                       // not ICMPv6 → drop
            /* 7 */ new(BPF_LD | BPF_W | BPF_ABS, 0, 0, 24),                         // destination, 4 words
            /* 8 */ new(BPF_JMP | BPF_JEQ | BPF_K, 0, 7, w0),
            /* 9 */ new(BPF_LD | BPF_W | BPF_ABS, 0, 0, 28),
            /*10 */ new(BPF_JMP | BPF_JEQ | BPF_K, 0, 5, w1),
            /*11 */ new(BPF_LD | BPF_W | BPF_ABS, 0, 0, 32),
            /*12 */ new(BPF_JMP | BPF_JEQ | BPF_K, 0, 3, w2),
            /*13 */ new(BPF_LD | BPF_W | BPF_ABS, 0, 0, 36),
            /*14 */ new(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, w3),
            /*15 */ new(BPF_RET | BPF_K, 0, 0, SnapLength),
            /*16 */ new(BPF_RET | BPF_K, 0, 0, 0),
        ];
    }
}
