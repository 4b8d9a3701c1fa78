using System.Buffers.Binary;
using static TunLB.Linux.Interop;

namespace TunLB.Linux.Xdp;

/// <summary>
/// The XDP program, as raw eBPF instructions (the kernel here has no BTF, and nothing needs clang at run time): parse
/// Ethernet and at most one VLAN tag (802.1Q or 802.1ad), read the IPv4 or IPv6 destination and look it up in the VIP map
/// of its family. A VIP steered whole (value bit 1) is redirected; a VIP with services (bit 2) only for a configured
/// service: TCP or UDP whose (VIP, protocol, destination port) or (VIP, protocol, 0) is in the service map of its family,
/// plus every fragment but the first of such a VIP (IPv4 MF or offset, an IPv6 fragment header), whose ports are not in it.
/// A redirect is <c>bpf_redirect_map(xsks, rx_queue_index, XDP_PASS)</c>: the AF_XDP socket bound to the packet's
/// receive queue, or XDP_PASS when that queue has no socket. Everything else gets XDP_PASS, so other ports and protocols
/// of a VIP (ICMP, a service held locally) go to the kernel.
/// </summary>
/// <remarks>
/// Keys are the bytes as they appear in the packet: 4 bytes (IPv4 /32) in vips4, 16 bytes (IPv6 /128) in vips6; a service
/// key is the address, the destination port (network order), the protocol and a zero byte (8 bytes IPv4, 20 bytes IPv6).
/// Loads of packet data are host-order, so the EtherType constants are the network bytes read little-endian.
/// </remarks>
internal static class XdpRedirectProgram
{
    public const int EthernetHeaderLength = 14, VlanTagLength = 4;
    /// <summary>Value bits of the VIP maps: steer every packet to the VIP, or only its services.</summary>
    public const int SteerWholeVip = 1, SteerServices = 2;
    public const int ServiceKeyLength4 = 8, ServiceKeyLength6 = 20;
    // As int of the 16-bit value: a jump's imm is sign-extended, a 16-bit load is zero-extended (0xDD86 must stay positive).
    private static readonly int EtherTypeIPv4 = Wire(0x0800), EtherTypeIPv6 = Wire(0x86DD),
        EtherTypeVlan = Wire(0x8100), EtherTypeQinQ = Wire(0x88A8), FragmentBits = Wire(0x3FFF);
    private const int Tcp = 6, Udp = 17, Ipv6Fragment = 44;

    private static int Wire(ushort value) => BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(value) : value;

    private enum Label { Vlan, L3, V4, V4Ports, V6, V6Ports, Redirect, Pass }

    public static bpf_insn[] Build(int xsksMapFd, int vips4MapFd, int vips6MapFd, int services4MapFd, int services6MapFd)
    {
        var a = new BpfAssembler<Label>();
        // r6-r9 survive helper calls: context, packet start (moved past a VLAN tag), packet end, IPv4 transport header.
        const byte Ctx = BPF_REG_6, Data = BPF_REG_7, End = BPF_REG_8, L4 = BPF_REG_9, Tmp = BPF_REG_4, Proto = BPF_REG_5;
        const int l3 = EthernetHeaderLength;

        a.MovReg(Ctx, BPF_REG_1);
        a.Load(BPF_W, Data, Ctx, 0);                       // xdp_md.data
        a.Load(BPF_W, End, Ctx, 4);                        // xdp_md.data_end
        a.CheckLength(Tmp, Data, End, EthernetHeaderLength, Label.Pass);
        a.Load(BPF_H, Proto, Data, 12);
        a.JumpIf(BPF_JEQ, Proto, EtherTypeVlan, Label.Vlan);
        a.JumpIf(BPF_JEQ, Proto, EtherTypeQinQ, Label.Vlan);
        a.Jump(Label.L3);

        a.Mark(Label.Vlan);                                // one tag: the inner EtherType, then L3 4 bytes later
        a.CheckLength(Tmp, Data, End, EthernetHeaderLength + VlanTagLength, Label.Pass);
        a.Load(BPF_H, Proto, Data, 16);
        a.AddImm(Data, VlanTagLength);

        a.Mark(Label.L3);                                  // Data + 14 is the IP header on both paths
        a.JumpIf(BPF_JEQ, Proto, EtherTypeIPv4, Label.V4);
        a.JumpIf(BPF_JEQ, Proto, EtherTypeIPv6, Label.V6);
        a.Jump(Label.Pass);

        // IPv4. Stack: the service key at fp-8 (address, port, protocol, 0); its first 4 bytes are the VIP key.
        a.Mark(Label.V4);
        a.CheckLength(Tmp, Data, End, l3 + 20, Label.Pass);
        a.Load(BPF_W, Tmp, Data, l3 + 16);
        a.Store(BPF_W, BPF_REG_10, -8, Tmp);
        a.Lookup(vips4MapFd, -8);
        a.JumpIf(BPF_JEQ, BPF_REG_0, 0, Label.Pass);
        a.Load(BPF_W, Tmp, BPF_REG_0, 0);
        a.JumpIf(BPF_JSET, Tmp, SteerWholeVip, Label.Redirect);
        a.Load(BPF_H, Tmp, Data, l3 + 6);                  // flags and fragment offset
        a.JumpIf(BPF_JSET, Tmp, FragmentBits, Label.Redirect);
        a.Load(BPF_B, Proto, Data, l3 + 9);
        a.JumpIf(BPF_JEQ, Proto, Tcp, Label.V4Ports);
        a.JumpIf(BPF_JEQ, Proto, Udp, Label.V4Ports);
        a.Jump(Label.Pass);
        a.Mark(Label.V4Ports);
        a.Load(BPF_B, Tmp, Data, l3);                      // IHL: the transport header starts IHL x 4 bytes in (at most 60)
        a.AndImm(Tmp, 0x0F);
        a.ShiftLeft(Tmp, 2);
        a.MovReg(L4, Data);
        a.AddReg(L4, Tmp);
        a.CheckLength(Tmp, L4, End, l3 + 4, Label.Pass);
        a.Load(BPF_H, Tmp, L4, l3 + 2);                    // destination port
        a.ServiceLookups(services4MapFd, keyAt: -8, portAt: -4, Tmp, Proto, Label.Redirect);
        a.Jump(Label.Pass);

        // IPv6. Stack: the service key at fp-24 (address, port, protocol, 0); its first 16 bytes are the VIP key.
        a.Mark(Label.V6);
        a.CheckLength(Tmp, Data, End, l3 + 40, Label.Pass);
        a.Load(BPF_DW, Tmp, Data, l3 + 24);
        a.Store(BPF_DW, BPF_REG_10, -24, Tmp);
        a.Load(BPF_DW, Tmp, Data, l3 + 32);
        a.Store(BPF_DW, BPF_REG_10, -16, Tmp);
        a.Lookup(vips6MapFd, -24);
        a.JumpIf(BPF_JEQ, BPF_REG_0, 0, Label.Pass);
        a.Load(BPF_W, Tmp, BPF_REG_0, 0);
        a.JumpIf(BPF_JSET, Tmp, SteerWholeVip, Label.Redirect);
        a.Load(BPF_B, Proto, Data, l3 + 6);                // next header; extension headers other than fragments pass
        a.JumpIf(BPF_JEQ, Proto, Ipv6Fragment, Label.Redirect);
        a.JumpIf(BPF_JEQ, Proto, Tcp, Label.V6Ports);
        a.JumpIf(BPF_JEQ, Proto, Udp, Label.V6Ports);
        a.Jump(Label.Pass);
        a.Mark(Label.V6Ports);
        a.CheckLength(Tmp, Data, End, l3 + 40 + 4, Label.Pass);
        a.Load(BPF_H, Tmp, Data, l3 + 42);
        a.ServiceLookups(services6MapFd, keyAt: -24, portAt: -8, Tmp, Proto, Label.Redirect);
        a.Jump(Label.Pass);

        a.Mark(Label.Redirect);
        a.Load(BPF_W, BPF_REG_2, Ctx, 16);                 // xdp_md.rx_queue_index
        a.LoadMapFd(BPF_REG_1, xsksMapFd);
        a.MovImm(BPF_REG_3, XDP_PASS);                     // no socket on this queue: the kernel stack gets it
        a.Call(BPF_FUNC_redirect_map);
        a.Exit();

        a.Mark(Label.Pass);
        a.MovImm(BPF_REG_0, XDP_PASS);
        a.Exit();
        return a.Finish();
    }
}
