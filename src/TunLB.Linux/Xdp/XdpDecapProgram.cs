using System.Buffers.Binary;
using static TunLB.Linux.Interop;

namespace TunLB.Linux.Xdp;

/// <summary>
/// The real server's XDP decapsulation, as raw eBPF instructions. An untagged Ethernet frame carrying an IP-in-IP tunnel
/// of either family in either family (IPv4 or IPv6 outer header, protocol / next header 4 or 41 right after it, so no
/// IPv4 options, no IPv6 extension headers and no fragment) loses its outer header in place (<c>bpf_xdp_adjust_head</c>)
/// and goes on to the kernel stack as if the client's packet had arrived on the device, when all of these hold. With a
/// GUE port, GUE over IPv4 to that port (UDP checksum 0, as directors send it unless <c>gue_checksum</c> is set; variant 0
/// without extension fields, or variant 1) loses its IPv4, UDP and GUE headers the same way:
/// <list type="bullet">
/// <item>the outer source is a director and the outer destination one of this host's addresses (maps of the outer family);</item>
/// <item>an IPv4 outer header's checksum is right;</item>
/// <item>the inner packet is of the family the outer header announced, is not itself a tunnel (protocol / next header
/// 4 or 41: nested tunnels are refused, as the agent refuses them), and its destination is a VIP (map of its family).</item>
/// </list>
/// Everything else passes unchanged, so the agent's raw sockets still see it and its filter counts it (GUE with a UDP
/// checksum or over IPv6, which the kernel verifies for the agent's socket; options or extension headers, fragments, a
/// bad outer checksum, unknown directors, other VIPs, VLAN tags).
/// </summary>
/// <remarks>
/// Keys are the addresses' wire bytes: directors4, locals4 and vips4 are hash maps of 4-byte keys, directors6, locals6
/// and vips6 of 16-byte keys. counters is a one-entry per-CPU array of two u64: packets decapsulated and their inner
/// bytes. The kernel checks the inner header (IPv4 checksum, lengths) as for any packet it receives.
/// </remarks>
internal static class XdpDecapProgram
{
    public const int EthernetHeaderLength = 14, OuterHeaderLength = 20, OuterHeaderLength6 = 40, MinInnerHeaderLength = 20;
    /// <summary>What a GUE packet over IPv4 loses: IPv4, UDP and, for variant 0, the 4-byte GUE header.</summary>
    public const int GueHeadersLength0 = 20 + 8 + 4, GueHeadersLength1 = 20 + 8;
    /// <summary>Value size of the counters map: packets, bytes.</summary>
    public const int CounterValueSize = 16;
    // As int of the 16-bit value: a jump's imm is sign-extended, a 16-bit load is zero-extended (0xDD86 must stay positive).
    private static readonly int EtherTypeIPv4 = Wire(0x0800), EtherTypeIPv6 = Wire(0x86DD), FragmentBits = Wire(0x3FFF);
    private const int VersionIhl5 = 0x45, IpIp = 4, Ipv6InIp = 41, Udp = 17;

    private static int Wire(ushort value) => BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(value) : value;

    private enum Label
    {
        Pass, Drop, OuterV4Tunnel, OuterV6, OuterV6Tunnel, InnerV4Of4, InnerV6Of4, InnerV4Of6, InnerV6Of6, Strip, InnerIsV6, Count,
        Gue, GueDispatch, GueVariant1, InnerV4OfGue0, InnerV6OfGue0, InnerV4OfGue1, InnerV6OfGue1,
    }

    // r6-r9 survive helper calls: context, packet start, packet end, and the outer header's length (then the inner length).
    private const byte Ctx = BPF_REG_6, Data = BPF_REG_7, End = BPF_REG_8, Length = BPF_REG_9, Tmp = BPF_REG_4, Sum = BPF_REG_3;
    // Stack: fp-16..-1 the key of the next lookup (4 or 16 bytes from fp-16), fp-20 the counter index, fp-40..-29 the MACs.
    private const short Key = -16, CounterKey = -20, Macs = -40;

    /// <param name="guePort">The GUE port to decapsulate (over IPv4, without UDP checksum); 0 for none.</param>
    public static bpf_insn[] Build(int directors4MapFd, int locals4MapFd, int vips4MapFd,
        int directors6MapFd, int locals6MapFd, int vips6MapFd, int countersMapFd, int guePort = 0)
    {
        var a = new BpfAssembler<Label>();
        const int l3 = EthernetHeaderLength;

        a.MovReg(Ctx, BPF_REG_1);
        a.Load(BPF_W, Data, Ctx, 0);                         // xdp_md.data
        a.Load(BPF_W, End, Ctx, 4);                          // xdp_md.data_end
        a.CheckLength(Tmp, Data, End, l3 + OuterHeaderLength + MinInnerHeaderLength, Label.Pass); // the smallest tunnel
        a.Load(BPF_H, Tmp, Data, 12);
        a.JumpIf(BPF_JEQ, Tmp, EtherTypeIPv6, Label.OuterV6);
        a.JumpIf(BPF_JNE, Tmp, EtherTypeIPv4, Label.Pass);

        // ---- IPv4 outer header: version 4, IHL 5 (no options), protocol 4 or 41, not a fragment, checksum right.
        a.Load(BPF_B, Tmp, Data, l3);
        a.JumpIf(BPF_JNE, Tmp, VersionIhl5, Label.Pass);
        a.Load(BPF_B, Tmp, Data, l3 + 9);
        a.JumpIf(BPF_JEQ, Tmp, IpIp, Label.OuterV4Tunnel);
        if (guePort != 0) a.JumpIf(BPF_JEQ, Tmp, Udp, Label.Gue);
        a.JumpIf(BPF_JNE, Tmp, Ipv6InIp, Label.Pass);
        if (guePort != 0)
        {
            a.Jump(Label.OuterV4Tunnel);
            // UDP to the GUE port with checksum 0 (a non-zero one is the kernel's to verify, for the agent's socket), then
            // a GUE header the agent would take: variant 0, C 0, Hlen 0 and protocol 4 or 41, or variant 1 (IPv4 / IPv6).
            a.Mark(Label.Gue);
            a.Load(BPF_H, Tmp, Data, l3 + 20 + 2);
            a.JumpIf(BPF_JNE, Tmp, Wire((ushort)guePort), Label.Pass);
            a.Load(BPF_H, Tmp, Data, l3 + 20 + 6);
            a.JumpIf(BPF_JNE, Tmp, 0, Label.Pass);
            a.Load(BPF_B, Tmp, Data, l3 + 28);
            a.JumpIf(BPF_JEQ, Tmp, 0, Label.OuterV4Tunnel);       // variant 0 without options: its protocol is checked below
            a.AndImm(Tmp, 0xD0);                                  // variant 1: 0100 (IPv4) or 0110 (IPv6) in the top nibble
            a.JumpIf(BPF_JNE, Tmp, 0x40, Label.Pass);
        }
        a.Mark(Label.OuterV4Tunnel);
        a.Load(BPF_H, Tmp, Data, l3 + 6);                    // an outer fragment: the kernel reassembles it for the raw socket
        a.JumpIf(BPF_JSET, Tmp, FragmentBits, Label.Pass);
        // Its ten 16-bit words must add up (one's complement) to 0xFFFF. A damaged header passes unchanged, and the kernel
        // drops it and counts it (Ip InCsumErrors), as it would without XDP. The sum does not depend on the byte order the
        // words are loaded in.
        a.Load(BPF_H, Sum, Data, l3);
        for (short i = 2; i < OuterHeaderLength; i += 2)
        {
            a.Load(BPF_H, Tmp, Data, (short)(l3 + i));
            a.AddReg(Sum, Tmp);
        }
        for (int fold = 0; fold < 2; fold++)                 // at most 10 x 0xFFFF: two folds bring it into 16 bits
        {
            a.MovReg(Tmp, Sum);
            a.ShiftRight(Tmp, 16);
            a.AndImm(Sum, 0xFFFF);
            a.AddReg(Sum, Tmp);
        }
        a.JumpIf(BPF_JNE, Sum, 0xFFFF, Label.Pass);
        a.Load(BPF_W, Tmp, Data, l3 + 12);                   // outer source: a director
        a.Store(BPF_W, BPF_REG_10, Key, Tmp);
        a.Lookup(directors4MapFd, Key);
        a.JumpIf(BPF_JEQ, BPF_REG_0, 0, Label.Pass);
        a.Load(BPF_W, Tmp, Data, l3 + 16);                   // outer destination: this host
        a.Store(BPF_W, BPF_REG_10, Key, Tmp);
        a.Lookup(locals4MapFd, Key);
        a.JumpIf(BPF_JEQ, BPF_REG_0, 0, Label.Pass);
        a.MovImm(Length, OuterHeaderLength);
        a.Load(BPF_B, Tmp, Data, l3 + 9);
        if (guePort != 0) a.JumpIf(BPF_JEQ, Tmp, Udp, Label.GueDispatch);
        a.JumpIf(BPF_JEQ, Tmp, Ipv6InIp, Label.InnerV6Of4);
        a.Jump(Label.InnerV4Of4);
        if (guePort != 0)
        {
            a.Mark(Label.GueDispatch);                            // the headers were checked above
            a.Load(BPF_B, Tmp, Data, l3 + 28);
            a.JumpIf(BPF_JNE, Tmp, 0, Label.GueVariant1);
            a.MovImm(Length, GueHeadersLength0);
            a.Load(BPF_B, Tmp, Data, l3 + 29);
            a.JumpIf(BPF_JEQ, Tmp, IpIp, Label.InnerV4OfGue0);
            a.JumpIf(BPF_JEQ, Tmp, Ipv6InIp, Label.InnerV6OfGue0);
            a.Jump(Label.Pass);
            a.Mark(Label.GueVariant1);
            a.MovImm(Length, GueHeadersLength1);
            a.AndImm(Tmp, 0xF0);
            a.JumpIf(BPF_JEQ, Tmp, 0x60, Label.InnerV6OfGue1);
            a.Jump(Label.InnerV4OfGue1);
        }

        // ---- IPv6 outer header: version 6, next header 4 or 41 (no extension header, so no fragment either).
        a.Mark(Label.OuterV6);
        a.CheckLength(Tmp, Data, End, l3 + OuterHeaderLength6 + MinInnerHeaderLength, Label.Pass);
        a.Load(BPF_B, Tmp, Data, l3);
        a.AndImm(Tmp, 0xF0);
        a.JumpIf(BPF_JNE, Tmp, 0x60, Label.Pass);
        a.Load(BPF_B, Tmp, Data, l3 + 6);
        a.JumpIf(BPF_JEQ, Tmp, IpIp, Label.OuterV6Tunnel);
        a.JumpIf(BPF_JNE, Tmp, Ipv6InIp, Label.Pass);
        a.Mark(Label.OuterV6Tunnel);
        StoreKey16(a, l3 + 8);                               // outer source: a director
        a.Lookup(directors6MapFd, Key);
        a.JumpIf(BPF_JEQ, BPF_REG_0, 0, Label.Pass);
        StoreKey16(a, l3 + 24);                              // outer destination: this host
        a.Lookup(locals6MapFd, Key);
        a.JumpIf(BPF_JEQ, BPF_REG_0, 0, Label.Pass);
        a.MovImm(Length, OuterHeaderLength6);
        a.Load(BPF_B, Tmp, Data, l3 + 6);
        a.JumpIf(BPF_JEQ, Tmp, Ipv6InIp, Label.InnerV6Of6);
        a.Jump(Label.InnerV4Of6);

        // ---- The inner packet, at a fixed offset on each path (the verifier wants constant packet offsets).
        Inner(a, Label.InnerV4Of4, l3 + OuterHeaderLength, v6: false, vips4MapFd);
        Inner(a, Label.InnerV6Of4, l3 + OuterHeaderLength, v6: true, vips6MapFd);
        Inner(a, Label.InnerV4Of6, l3 + OuterHeaderLength6, v6: false, vips4MapFd);
        Inner(a, Label.InnerV6Of6, l3 + OuterHeaderLength6, v6: true, vips6MapFd);
        if (guePort != 0)
        {
            Inner(a, Label.InnerV4OfGue0, l3 + GueHeadersLength0, v6: false, vips4MapFd);
            Inner(a, Label.InnerV6OfGue0, l3 + GueHeadersLength0, v6: true, vips6MapFd);
            Inner(a, Label.InnerV4OfGue1, l3 + GueHeadersLength1, v6: false, vips4MapFd);
            Inner(a, Label.InnerV6OfGue1, l3 + GueHeadersLength1, v6: true, vips6MapFd);
        }

        // ---- Keep the MACs, drop the outer header (Length bytes) from the front, write the MACs back in front of the
        // inner packet with the inner packet's EtherType. A failed adjust changed nothing: pass the packet as it came.
        a.Mark(Label.Strip);
        a.Load(BPF_DW, Tmp, Data, 0);
        a.Store(BPF_DW, BPF_REG_10, Macs, Tmp);
        a.Load(BPF_W, Tmp, Data, 8);
        a.Store(BPF_W, BPF_REG_10, Macs + 8, Tmp);
        a.MovReg(BPF_REG_1, Ctx);
        a.MovReg(BPF_REG_2, Length);
        a.Call(BPF_FUNC_xdp_adjust_head);
        a.JumpIf(BPF_JNE, BPF_REG_0, 0, Label.Pass);
        a.Load(BPF_W, Data, Ctx, 0);                         // every packet pointer is stale after the adjust
        a.Load(BPF_W, End, Ctx, 4);
        a.CheckLength(Tmp, Data, End, l3 + MinInnerHeaderLength, Label.Drop); // cannot fail: the inner header was there
        a.Load(BPF_DW, Tmp, BPF_REG_10, Macs);
        a.Store(BPF_DW, Data, 0, Tmp);
        a.Load(BPF_W, Tmp, BPF_REG_10, Macs + 8);
        a.Store(BPF_W, Data, 8, Tmp);
        a.Load(BPF_B, Tmp, Data, l3);
        a.AndImm(Tmp, 0xF0);
        a.JumpIf(BPF_JEQ, Tmp, 0x60, Label.InnerIsV6);
        a.StoreImm(BPF_H, Data, 12, EtherTypeIPv4);
        a.Load(BPF_H, Length, Data, l3 + 2);                 // IPv4 total length
        a.ToBigEndian16(Length);                             // network to host order (a swap on little-endian)
        a.Jump(Label.Count);
        a.Mark(Label.InnerIsV6);
        a.StoreImm(BPF_H, Data, 12, EtherTypeIPv6);
        a.Load(BPF_H, Length, Data, l3 + 4);                 // IPv6 payload length, plus its 40-byte header
        a.ToBigEndian16(Length);
        a.AddImm(Length, OuterHeaderLength6);

        // counters[0] (this CPU's): packets += 1, bytes += the inner packet's length.
        a.Mark(Label.Count);
        a.StoreImm(BPF_W, BPF_REG_10, CounterKey, 0);
        a.Lookup(countersMapFd, CounterKey);
        a.JumpIf(BPF_JEQ, BPF_REG_0, 0, Label.Pass);
        a.Load(BPF_DW, Tmp, BPF_REG_0, 0);
        a.AddImm(Tmp, 1);
        a.Store(BPF_DW, BPF_REG_0, 0, Tmp);
        a.Load(BPF_DW, Tmp, BPF_REG_0, 8);
        a.AddReg(Tmp, Length);
        a.Store(BPF_DW, BPF_REG_0, 8, Tmp);
        a.Jump(Label.Pass);

        a.Mark(Label.Drop);
        a.MovImm(BPF_REG_0, XDP_DROP);
        a.Exit();

        a.Mark(Label.Pass);
        a.MovImm(BPF_REG_0, XDP_PASS);
        a.Exit();
        return a.Finish();
    }

    /// <summary>The inner packet at <paramref name="at"/>: of the announced family, not a tunnel itself, for a VIP; then strip.</summary>
    private static void Inner(BpfAssembler<Label> a, Label label, int at, bool v6, int vipsMapFd)
    {
        a.Mark(label);
        a.CheckLength(Tmp, Data, End, at + (v6 ? 40 : MinInnerHeaderLength), Label.Pass);
        a.Load(BPF_B, Tmp, Data, (short)at);
        a.AndImm(Tmp, 0xF0);
        a.JumpIf(BPF_JNE, Tmp, v6 ? 0x60 : 0x40, Label.Pass);
        a.Load(BPF_B, Tmp, Data, (short)(at + (v6 ? 6 : 9)));  // protocol / next header: a nested tunnel is refused
        a.JumpIf(BPF_JEQ, Tmp, IpIp, Label.Pass);
        a.JumpIf(BPF_JEQ, Tmp, Ipv6InIp, Label.Pass);
        if (v6) StoreKey16(a, at + 24);                      // destination: a VIP
        else
        {
            a.Load(BPF_W, Tmp, Data, (short)(at + 16));
            a.Store(BPF_W, BPF_REG_10, Key, Tmp);
        }
        a.Lookup(vipsMapFd, Key);
        a.JumpIf(BPF_JEQ, BPF_REG_0, 0, Label.Pass);
        a.Jump(Label.Strip);
    }

    /// <summary>Copies the 16 packet bytes at <paramref name="at"/> (an IPv6 address) to the key slot.</summary>
    private static void StoreKey16(BpfAssembler<Label> a, int at)
    {
        a.Load(BPF_DW, Tmp, Data, (short)at);
        a.Store(BPF_DW, BPF_REG_10, Key, Tmp);
        a.Load(BPF_DW, Tmp, Data, (short)(at + 8));
        a.Store(BPF_DW, BPF_REG_10, Key + 8, Tmp);
    }
}
