using System.Buffers.Binary;
using TunLB.Core.Egress;
using TunLB.Core.Flows;
using TunLB.Core.Model;
using static TunLB.Core.Egress.EgressBpf;

namespace TunLB.Core.Capture;

/// <summary>
/// The capture filter narrowed to service endpoints (VIP + protocol + port), so other ports of a VIP the host holds
/// stay with the kernel. It accepts a superset of what the nftables drop takes (the engine drops the rest as
/// no_service, the kernel keeps its copy): per VIP, TCP/UDP/SCTP only to a service port (every port for a port-0
/// service), every fragment, and every other protocol (ICMP errors about service flows among them). IPv6 packets with
/// extension headers are accepted too: the filter reads the port only when the first next header is the transport.
/// </summary>
public static partial class CaptureBpf
{
    public const ushort BPF_LDX = 0x01, BPF_IND = 0x40, BPF_MSH = 0xa0;
    private static readonly byte[] PortProtocols = [6, 17, 132];

    /// <summary>Builds the filter for <paramref name="endpoints"/>; other arguments as <see cref="Build(IEnumerable{IpAddress}, int, IReadOnlyList{int})"/>.</summary>
    public static BpfInstruction[] Build(ServiceEndpoints endpoints, int tunIfindex, IReadOnlyList<int> captureIfindexes)
    {
        if (captureIfindexes.Count > MaxInterfaces)
            throw new ArgumentException($"at most {MaxInterfaces} capture interfaces, got {captureIfindexes.Count}");
        var byVip = endpoints.Keys.GroupBy(k => k.Vip).OrderBy(g => g.Key.IsV4 ? 0 : 1).ToArray();
        var p = new List<BpfInstruction>();
        int proto = Prologue(p, tunIfindex, captureIfindexes);
        p.Add(new(BPF_LD | BPF_W | BPF_ABS, 0, 0, SKF_AD_OFF + SKF_AD_PROTOCOL));
        p.Add(new(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, EtherTypeIPv4));
        int jaV4 = p.Count; p.Add(new(BPF_JMP | BPF_JA, 0, 0, 0));
        p.Add(new(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, EtherTypeIPv6));
        int jaV6 = p.Count; p.Add(new(BPF_JMP | BPF_JA, 0, 0, 0));
        p.Add(new(BPF_RET | BPF_K, 0, 0, 0));

        Patch(p, jaV4, p.Count);
        p.Add(new(BPF_LD | BPF_W | BPF_ABS, 0, 0, SKF_NET_OFF + 16));
        foreach (var vip in byVip.Where(g => g.Key.IsV4))
        {
            p.Add(new(BPF_JMP | BPF_JEQ | BPF_K, 1, 0, vip.Key.V4));
            int next = p.Count; p.Add(new(BPF_JMP | BPF_JA, 0, 0, 0));
            p.Add(new(BPF_LD | BPF_H | BPF_ABS, 0, 0, SKF_NET_OFF + 6));      // flags and fragment offset
            p.Add(new(BPF_JMP | BPF_JSET | BPF_K, 0, 1, 0x3fff));              // any fragment: accept
            p.Add(new(BPF_RET | BPF_K, 0, 0, SnapLength));
            p.Add(new(BPF_LD | BPF_B | BPF_ABS, 0, 0, SKF_NET_OFF + 9));
            Ports(p, vip, v4: true);
            Patch(p, next, p.Count);
        }
        p.Add(new(BPF_RET | BPF_K, 0, 0, 0));

        Patch(p, jaV6, p.Count);
        Span<byte> b = stackalloc byte[16];
        foreach (var vip in byVip.Where(g => !g.Key.IsV4))
        {
            vip.Key.WriteV6(b);
            for (int w = 0; w < 4; w++)
            {
                p.Add(new(BPF_LD | BPF_W | BPF_ABS, 0, 0, SKF_NET_OFF + 24 + (uint)(4 * w)));
                uint word = BinaryPrimitives.ReadUInt32BigEndian(b.Slice(4 * w));
                p.Add(w < 3 ? new(BPF_JMP | BPF_JEQ | BPF_K, 0, (byte)(6 - 2 * w), word) : new(BPF_JMP | BPF_JEQ | BPF_K, 1, 0, word));
            }
            int next = p.Count; p.Add(new(BPF_JMP | BPF_JA, 0, 0, 0));
            p.Add(new(BPF_LD | BPF_B | BPF_ABS, 0, 0, SKF_NET_OFF + 6));      // next header
            Ports(p, vip, v4: false);
            Patch(p, next, p.Count);
        }
        p.Add(new(BPF_RET | BPF_K, 0, 0, 0));
        if (p.Count > MaxInstructions)
            throw new ArgumentException(
                $"{endpoints.Count} service endpoints on {byVip.Length} VIPs need a {p.Count}-instruction capture filter; the kernel allows " +
                $"{MaxInstructions}: use io = \"tun\" for service sets this large");
        return p.ToArray();
    }

    /// <summary>
    /// With A = the IP protocol (IPv6: first next header): a group per served protocol that accepts its service ports,
    /// then rejects the other port protocols and accepts everything else. Every path ends in a return.
    /// </summary>
    private static void Ports(List<BpfInstruction> p, IGrouping<IpAddress, ServiceKey> vip, bool v4)
    {
        var protocols = vip.GroupBy(k => k.Protocol).OrderBy(g => g.Key).ToArray();
        foreach (var g in protocols)
        {
            p.Add(new(BPF_JMP | BPF_JEQ | BPF_K, 1, 0, g.Key));
            int next = p.Count; p.Add(new(BPF_JMP | BPF_JA, 0, 0, 0));
            if (g.Any(k => k.Port == 0))
                p.Add(new(BPF_RET | BPF_K, 0, 0, SnapLength));
            else
            {
                if (v4)
                {
                    p.Add(new(BPF_LDX | BPF_B | BPF_MSH, 0, 0, SKF_NET_OFF));  // X = IPv4 header length
                    p.Add(new(BPF_LD | BPF_H | BPF_IND, 0, 0, SKF_NET_OFF + 2)); // destination port
                }
                else p.Add(new(BPF_LD | BPF_H | BPF_ABS, 0, 0, SKF_NET_OFF + 40 + 2));
                foreach (var port in g.Select(k => k.Port).Distinct().Order())
                {
                    p.Add(new(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, port));
                    p.Add(new(BPF_RET | BPF_K, 0, 0, SnapLength));
                }
                p.Add(new(BPF_RET | BPF_K, 0, 0, 0));
            }
            Patch(p, next, p.Count);
        }
        foreach (var q in PortProtocols.Where(q => protocols.All(g => g.Key != q)))
        {
            p.Add(new(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, q));
            p.Add(new(BPF_RET | BPF_K, 0, 0, 0));
        }
        p.Add(new(BPF_RET | BPF_K, 0, 0, SnapLength));
    }

    /// <summary>Points the BPF_JA at <paramref name="at"/> to instruction <paramref name="target"/>.</summary>
    private static void Patch(List<BpfInstruction> p, int at, int target) =>
        p[at] = new(BPF_JMP | BPF_JA, 0, 0, (uint)(target - at - 1));
}
