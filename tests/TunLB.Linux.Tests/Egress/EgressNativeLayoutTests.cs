using TunLB.Tests.Shared;

namespace TunLB.Linux.Tests.Egress;

/// <summary>The AF_PACKET / BPF declarations of the egress listener against a gcc-compiled C program (like NativeLayoutTests).</summary>
public sealed class EgressNativeLayoutTests
{
    private static readonly string CProgram = new CLayoutProgram("errno.h", "netinet/in.h", "sys/socket.h", "linux/if_packet.h", "linux/if_ether.h", "linux/filter.h")
        .Struct("sockaddr_ll", "sll_family", "sll_protocol", "sll_ifindex", "sll_hatype", "sll_pkttype", "sll_halen", "sll_addr")
        .Struct("sock_fprog", "len", "filter")
        .Struct("sock_filter", "code", "jt", "jf", "k")
        .Constants("ETH_P_IP", "PACKET_HOST", "PACKET_OUTGOING", "SO_ATTACH_FILTER", "SO_DETACH_FILTER", "EOPNOTSUPP",
            "IPPROTO_ICMP", "SKF_AD_OFF", "SKF_AD_PKTTYPE", "BPF_LD|BPF_W|BPF_ABS", "BPF_LD|BPF_H|BPF_ABS",
            "BPF_LD|BPF_B|BPF_ABS", "BPF_ALU|BPF_AND|BPF_K", "BPF_JMP|BPF_JEQ|BPF_K", "BPF_JMP|BPF_JSET|BPF_K",
            "BPF_RET|BPF_K")
        .ToString();

    [Fact]
    public void Declarations_match_the_C_headers() =>
        CHeaderValues.AssertSame(CHeaderValues.CompileAndRun(CProgram), EgressNativeLayout.Values());
}
