using System.Buffers.Binary;
using static TunLB.Linux.Interop;

namespace TunLB.Linux.Xdp;

/// <summary>
/// The real server's XDP decapsulation, as raw eBPF instructions: an untagged Ethernet frame carrying IPv4-in-IPv4
/// (outer header of 20 bytes, not a fragment) whose outer source is a director, whose outer destination is one of this
/// host's addresses on the device and whose inner destination is a VIP loses its outer header in place
/// (<c>bpf_xdp_adjust_head</c>) and goes on to the kernel stack as if the client's packet had arrived on the device.
/// Everything else passes unchanged, so the agent's raw sockets still see it and its filter counts it (IPv6, GUE,
/// outer options or fragments, a bad outer checksum, unknown directors, other VIPs).
/// </summary>
/// <remarks>
/// Keys are the addresses' wire bytes: directors4, locals4 and vips4 are hash maps of 4-byte keys. counters is a
/// one-entry per-CPU array of two u64: packets decapsulated and their inner bytes. The outer header checksum is checked
/// here (a bad one passes to the kernel, which drops and counts it); the kernel checks the inner header's.
/// </remarks>
internal static class XdpDecapProgram
{
    public const int EthernetHeaderLength = 14, OuterHeaderLength = 20, MinInnerHeaderLength = 20;
    /// <summary>Value size of the counters map: packets, bytes.</summary>
    public const int CounterValueSize = 16;
    private static readonly int EtherTypeIPv4 = Wire(0x0800), FragmentBits = Wire(0x3FFF);
    private const int VersionIhl5 = 0x45, IpIp = 4;

    private static int Wire(ushort value) => BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(value) : value;

    private enum Label { Pass, Drop }

    public static bpf_insn[] Build(int directors4MapFd, int locals4MapFd, int vips4MapFd, int countersMapFd)
    {
        var a = new BpfAssembler<Label>();
        // r6-r9 survive helper calls: context, packet start, packet end, the inner length.
        const byte Ctx = BPF_REG_6, Data = BPF_REG_7, End = BPF_REG_8, Length = BPF_REG_9, Tmp = BPF_REG_4, Sum = BPF_REG_3;
        const int l3 = EthernetHeaderLength, inner = l3 + OuterHeaderLength;

        a.MovReg(Ctx, BPF_REG_1);
        a.Load(BPF_W, Data, Ctx, 0);                         // xdp_md.data
        a.Load(BPF_W, End, Ctx, 4);                          // xdp_md.data_end
        a.CheckLength(Tmp, Data, End, inner + MinInnerHeaderLength, Label.Pass);
        a.Load(BPF_H, Tmp, Data, 12);
        a.JumpIf(BPF_JNE, Tmp, EtherTypeIPv4, Label.Pass);
        a.Load(BPF_B, Tmp, Data, l3);                        // version 4, IHL 5: no outer options
        a.JumpIf(BPF_JNE, Tmp, VersionIhl5, Label.Pass);
        a.Load(BPF_B, Tmp, Data, l3 + 9);
        a.JumpIf(BPF_JNE, Tmp, IpIp, Label.Pass);
        a.Load(BPF_H, Tmp, Data, l3 + 6);                    // an outer fragment: the kernel reassembles it for the raw socket
        a.JumpIf(BPF_JSET, Tmp, FragmentBits, Label.Pass);
        a.Load(BPF_B, Tmp, Data, inner);                     // the inner packet is IPv4 (its header the kernel checks)
        a.AndImm(Tmp, 0xF0);
        a.JumpIf(BPF_JNE, Tmp, 0x40, Label.Pass);
        // The outer header's checksum: its ten 16-bit words must add up (one's complement) to 0xFFFF. A damaged header
        // passes unchanged, and the kernel drops it and counts it (Ip InCsumErrors), as it would without XDP. The sum
        // does not depend on the byte order the words are loaded in.
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

        // Stack: fp-4 director key, fp-8 local key, fp-12 VIP key, fp-16 counter index, fp-32..-18 the Ethernet header.
        a.Load(BPF_W, Tmp, Data, l3 + 12);                   // outer source
        a.Store(BPF_W, BPF_REG_10, -4, Tmp);
        a.Lookup(directors4MapFd, -4);
        a.JumpIf(BPF_JEQ, BPF_REG_0, 0, Label.Pass);
        a.Load(BPF_W, Tmp, Data, l3 + 16);                   // outer destination
        a.Store(BPF_W, BPF_REG_10, -8, Tmp);
        a.Lookup(locals4MapFd, -8);
        a.JumpIf(BPF_JEQ, BPF_REG_0, 0, Label.Pass);
        a.Load(BPF_W, Tmp, Data, inner + 16);                // inner destination
        a.Store(BPF_W, BPF_REG_10, -12, Tmp);
        a.Lookup(vips4MapFd, -12);
        a.JumpIf(BPF_JEQ, BPF_REG_0, 0, Label.Pass);

        // Keep the Ethernet header, drop 20 bytes from the front, write the header back in front of the inner packet
        // (same addresses, EtherType IPv4 again). A failed adjust changed nothing: pass the packet as it came.
        a.Load(BPF_DW, Tmp, Data, 0);
        a.Store(BPF_DW, BPF_REG_10, -32, Tmp);
        a.Load(BPF_W, Tmp, Data, 8);
        a.Store(BPF_W, BPF_REG_10, -24, Tmp);
        a.Load(BPF_H, Tmp, Data, 12);
        a.Store(BPF_H, BPF_REG_10, -20, Tmp);
        a.MovReg(BPF_REG_1, Ctx);
        a.MovImm(BPF_REG_2, OuterHeaderLength);
        a.Call(BPF_FUNC_xdp_adjust_head);
        a.JumpIf(BPF_JNE, BPF_REG_0, 0, Label.Pass);
        a.Load(BPF_W, Data, Ctx, 0);                         // every packet pointer is stale after the adjust
        a.Load(BPF_W, End, Ctx, 4);
        a.CheckLength(Tmp, Data, End, EthernetHeaderLength + MinInnerHeaderLength, Label.Drop); // cannot fail: 54 bytes were there
        a.Load(BPF_DW, Tmp, BPF_REG_10, -32);
        a.Store(BPF_DW, Data, 0, Tmp);
        a.Load(BPF_W, Tmp, BPF_REG_10, -24);
        a.Store(BPF_W, Data, 8, Tmp);
        a.Load(BPF_H, Tmp, BPF_REG_10, -20);
        a.Store(BPF_H, Data, 12, Tmp);

        // counters[0] (this CPU's): packets += 1, bytes += the inner packet's total length.
        a.Load(BPF_H, Length, Data, EthernetHeaderLength + 2);
        a.ToBigEndian16(Length);                               // network to host order (a swap on little-endian)
        a.StoreImm(BPF_W, BPF_REG_10, -16, 0);
        a.Lookup(countersMapFd, -16);
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
}
