using System.Buffers.Binary;
using TunLB.Core.Egress;
using TunLB.Core.Flows;
using static TunLB.Core.Egress.EgressBpf;

namespace TunLB.Core.Capture;

/// <summary>
/// The classic BPF program of the AF_PACKET capture backend (`io = "afpacket"`). It accepts:
/// <list type="bullet">
/// <item>incoming frames addressed to this host (pkt_type PACKET_HOST: not frames a promiscuous interface overhears for
/// other hosts, nor broadcast/multicast) on the capture interfaces (all when the list is empty), and</item>
/// <item>outgoing frames on the TUN device only (health checks the director itself sends through a VIP route),</item>
/// </list>
/// whose EtherType is IPv4 or IPv6 and whose IP destination is one of the VIPs. Loads are relative to the network
/// header (SKF_NET_OFF), so the program works on Ethernet, TUN and any other link type. Our own IPIP/GUE output goes
/// to real servers, never to a VIP, so it is never captured; ICMP errors addressed to a VIP are.
/// </summary>
/// <remarks>
/// The program is linear: 2 instructions per IPv4 VIP, 9 per IPv6 VIP, 1 per capture interface, plus a fixed 15.
/// The kernel refuses programs over <see cref="MaxInstructions"/> (BPF_MAXINSNS), which bounds the VIP set to about
/// 2,000 IPv4 or 450 IPv6 VIPs; <see cref="Build"/> throws beyond it and <see cref="Length"/> tells the size in advance.
/// </remarks>
public static partial class CaptureBpf
{
    /// <summary>BPF_MAXINSNS (&lt;linux/bpf_common.h&gt;).</summary>
    public const int MaxInstructions = 4096;
    /// <summary>At most this many capture interfaces (keeps every conditional jump within its 8-bit offset).</summary>
    public const int MaxInterfaces = 64;

    public const ushort BPF_JA = 0x00;
    public const uint SKF_AD_PROTOCOL = 0;
    public const uint SKF_AD_IFINDEX = 8;
    public const uint SKF_NET_OFF = unchecked((uint)-0x100000);
    public const uint EtherTypeIPv4 = 0x0800, EtherTypeIPv6 = 0x86DD;
    /// <summary>&lt;linux/if_packet.h&gt; PACKET_HOST.</summary>
    public const uint PACKET_HOST = 0;

    /// <summary>The number of instructions <see cref="Build"/> produces.</summary>
    public static int Length(int v4Vips, int v6Vips, int interfaces) =>
        15 + (interfaces > 0 ? interfaces + 2 : 0) + 2 * v4Vips + 9 * v6Vips;

    /// <summary>
    /// Builds the filter. <paramref name="tunIfindex"/>: the TUN device whose outgoing packets to a VIP are captured (0: none);
    /// <paramref name="captureIfindexes"/>: the interfaces incoming packets are taken from (empty: all).
    /// </summary>
    public static BpfInstruction[] Build(IEnumerable<IpAddress> vips, int tunIfindex, IReadOnlyList<int> captureIfindexes)
    {
        var v4 = vips.Where(v => v.IsV4).Distinct().ToArray();
        var v6 = vips.Where(v => !v.IsV4).Distinct().ToArray();
        if (captureIfindexes.Count > MaxInterfaces)
            throw new ArgumentException($"at most {MaxInterfaces} capture interfaces, got {captureIfindexes.Count}");
        int n = Length(v4.Length, v6.Length, captureIfindexes.Count);
        if (n > MaxInstructions)
            throw new ArgumentException(
                $"{v4.Length} IPv4 and {v6.Length} IPv6 VIPs need a {n}-instruction capture filter; the kernel allows {MaxInstructions} " +
                "(about 2,000 IPv4 or 450 IPv6 VIPs): use io = \"tun\" for VIP sets this large");

        var p = new List<BpfInstruction>(n);
        int proto = Prologue(p, tunIfindex, captureIfindexes);
        // proto: A = EtherType; IPv4 → v4 block, IPv6 → v6 block (BPF_JA: 32-bit offsets), else drop.
        int v4Start = proto + 6, v6Start = v4Start + 2 + 2 * v4.Length;
        p.Add(new(BPF_LD | BPF_W | BPF_ABS, 0, 0, SKF_AD_OFF + SKF_AD_PROTOCOL));
        p.Add(new(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, EtherTypeIPv4));
        p.Add(new(BPF_JMP | BPF_JA, 0, 0, (uint)(v4Start - (proto + 3))));
        p.Add(new(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, EtherTypeIPv6));
        p.Add(new(BPF_JMP | BPF_JA, 0, 0, (uint)(v6Start - (proto + 5))));
        p.Add(new(BPF_RET | BPF_K, 0, 0, 0));
        // v4: A = destination; one compare + accept per VIP.
        p.Add(new(BPF_LD | BPF_W | BPF_ABS, 0, 0, SKF_NET_OFF + 16));
        foreach (var vip in v4)
        {
            p.Add(new(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, vip.V4));
            p.Add(new(BPF_RET | BPF_K, 0, 0, SnapLength));
        }
        p.Add(new(BPF_RET | BPF_K, 0, 0, 0));
        // v6: four 32-bit compares of the destination per VIP.
        Span<byte> b = stackalloc byte[16];
        foreach (var vip in v6)
        {
            vip.WriteV6(b);
            for (int w = 0; w < 4; w++)
            {
                p.Add(new(BPF_LD | BPF_W | BPF_ABS, 0, 0, SKF_NET_OFF + 24 + (uint)(4 * w)));
                p.Add(new(BPF_JMP | BPF_JEQ | BPF_K, 0, (byte)(7 - 2 * w), BinaryPrimitives.ReadUInt32BigEndian(b.Slice(4 * w))));
            }
            p.Add(new(BPF_RET | BPF_K, 0, 0, SnapLength));
        }
        p.Add(new(BPF_RET | BPF_K, 0, 0, 0));
        return p.ToArray();
    }

    /// <summary>
    /// The packet-type and interface checks every filter starts with; returns the index of the instruction after them
    /// (where the EtherType check begins), which accepted packets jump to.
    /// </summary>
    private static int Prologue(List<BpfInstruction> p, int tunIfindex, IReadOnlyList<int> captureIfindexes)
    {
        int ifBlock = captureIfindexes.Count > 0 ? captureIfindexes.Count + 2 : 0;
        int proto = 6 + ifBlock; // index of the protocol check
        /* 0 */ p.Add(new(BPF_LD | BPF_W | BPF_ABS, 0, 0, SKF_AD_OFF + SKF_AD_PKTTYPE));
        /* 1 */ p.Add(new(BPF_JMP | BPF_JEQ | BPF_K, 4, 0, PACKET_HOST));                   // to this host → 6
        /* 2 */ p.Add(new(BPF_JMP | BPF_JEQ | BPF_K, 0, 2, PACKET_OUTGOING));               // other types → 5 (drop)
        /* 3 */ p.Add(new(BPF_LD | BPF_W | BPF_ABS, 0, 0, SKF_AD_OFF + SKF_AD_IFINDEX));
        /* 4 */ p.Add(new(BPF_JMP | BPF_JEQ | BPF_K, (byte)(proto - 5), 0, (uint)tunIfindex)); // outgoing on the TUN → proto
        /* 5 */ p.Add(new(BPF_RET | BPF_K, 0, 0, 0));
        if (ifBlock > 0)
        {
            p.Add(new(BPF_LD | BPF_W | BPF_ABS, 0, 0, SKF_AD_OFF + SKF_AD_IFINDEX));
            foreach (int ifx in captureIfindexes)
                p.Add(new(BPF_JMP | BPF_JEQ | BPF_K, (byte)(proto - p.Count - 1), 0, (uint)ifx));
            p.Add(new(BPF_RET | BPF_K, 0, 0, 0));
        }
        return proto;
    }
}
