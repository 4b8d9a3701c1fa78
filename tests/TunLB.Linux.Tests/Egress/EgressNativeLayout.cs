using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TunLB.Core.Egress;

namespace TunLB.Linux.Tests.Egress;

/// <summary>
/// Sizes, offsets and constants of the declarations the egress code mirrors, by the C name a test program prints
/// for them, so a test can compare them with a gcc-compiled program (EgressNativeLayoutTests).
/// </summary>
internal static class EgressNativeLayout
{
    public static IReadOnlyDictionary<string, long> Values() => new Dictionary<string, long>
    {
        ["sizeof(sockaddr_ll)"] = Unsafe.SizeOf<Interop.sockaddr_ll>(),
        ["offsetof(sockaddr_ll.sll_family)"] = Offset<Interop.sockaddr_ll>(nameof(Interop.sockaddr_ll.sll_family)),
        ["offsetof(sockaddr_ll.sll_protocol)"] = Offset<Interop.sockaddr_ll>(nameof(Interop.sockaddr_ll.sll_protocol)),
        ["offsetof(sockaddr_ll.sll_ifindex)"] = Offset<Interop.sockaddr_ll>(nameof(Interop.sockaddr_ll.sll_ifindex)),
        ["offsetof(sockaddr_ll.sll_hatype)"] = Offset<Interop.sockaddr_ll>(nameof(Interop.sockaddr_ll.sll_hatype)),
        ["offsetof(sockaddr_ll.sll_pkttype)"] = Offset<Interop.sockaddr_ll>(nameof(Interop.sockaddr_ll.sll_pkttype)),
        ["offsetof(sockaddr_ll.sll_halen)"] = Offset<Interop.sockaddr_ll>(nameof(Interop.sockaddr_ll.sll_halen)),
        ["offsetof(sockaddr_ll.sll_addr)"] = Offset<Interop.sockaddr_ll>(nameof(Interop.sockaddr_ll.sll_addr)),
        ["sizeof(sock_fprog)"] = Unsafe.SizeOf<Interop.sock_fprog>(),
        ["offsetof(sock_fprog.len)"] = Offset<Interop.sock_fprog>(nameof(Interop.sock_fprog.len)),
        ["offsetof(sock_fprog.filter)"] = Offset<Interop.sock_fprog>(nameof(Interop.sock_fprog.filter)),
        ["sizeof(sock_filter)"] = Unsafe.SizeOf<BpfInstruction>(),
        ["offsetof(sock_filter.code)"] = Offset<BpfInstruction>(nameof(BpfInstruction.Code)),
        ["offsetof(sock_filter.jt)"] = Offset<BpfInstruction>(nameof(BpfInstruction.Jt)),
        ["offsetof(sock_filter.jf)"] = Offset<BpfInstruction>(nameof(BpfInstruction.Jf)),
        ["offsetof(sock_filter.k)"] = Offset<BpfInstruction>(nameof(BpfInstruction.K)),
        ["ETH_P_IP"] = Interop.ETH_P_IP,
        ["PACKET_HOST"] = Interop.PACKET_HOST,
        ["PACKET_OUTGOING"] = Interop.PACKET_OUTGOING,
        ["SO_ATTACH_FILTER"] = Interop.SO_ATTACH_FILTER,
        ["SO_DETACH_FILTER"] = Interop.SO_DETACH_FILTER,
        ["EOPNOTSUPP"] = Interop.EOPNOTSUPP,
        ["IPPROTO_ICMP"] = Interop.IPPROTO_ICMP,
        ["SKF_AD_OFF"] = unchecked((int)EgressBpf.SKF_AD_OFF),
        ["SKF_AD_PKTTYPE"] = EgressBpf.SKF_AD_PKTTYPE,
        ["BPF_LD|BPF_W|BPF_ABS"] = EgressBpf.BPF_LD | EgressBpf.BPF_W | EgressBpf.BPF_ABS,
        ["BPF_LD|BPF_H|BPF_ABS"] = EgressBpf.BPF_LD | EgressBpf.BPF_H | EgressBpf.BPF_ABS,
        ["BPF_LD|BPF_B|BPF_ABS"] = EgressBpf.BPF_LD | EgressBpf.BPF_B | EgressBpf.BPF_ABS,
        ["BPF_ALU|BPF_AND|BPF_K"] = EgressBpf.BPF_ALU | EgressBpf.BPF_AND | EgressBpf.BPF_K,
        ["BPF_JMP|BPF_JEQ|BPF_K"] = EgressBpf.BPF_JMP | EgressBpf.BPF_JEQ | EgressBpf.BPF_K,
        ["BPF_JMP|BPF_JSET|BPF_K"] = EgressBpf.BPF_JMP | EgressBpf.BPF_JSET | EgressBpf.BPF_K,
        ["BPF_RET|BPF_K"] = EgressBpf.BPF_RET | EgressBpf.BPF_K,
    };

    private static long Offset<T>(string field) => Marshal.OffsetOf<T>(field).ToInt64();
}
