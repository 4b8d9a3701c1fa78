using TunLB.Tests.Shared;

namespace TunLB.Linux.Tests.Egress;

/// <summary>The AF_PACKET / BPF declarations of the egress listener against a gcc-compiled C program (like NativeLayoutTests).</summary>
public sealed class EgressNativeLayoutTests
{
    private const string CProgram = """
        #include <stdio.h>
        #include <stddef.h>
        #include <errno.h>
        #include <netinet/in.h>
        #include <sys/socket.h>
        #include <linux/if_packet.h>
        #include <linux/if_ether.h>
        #include <linux/filter.h>

        #define P(name, value) printf("%s=%ld\n", name, (long)(value))
        int main(void) {
            P("sizeof(sockaddr_ll)", sizeof(struct sockaddr_ll));
            P("offsetof(sockaddr_ll.sll_family)", offsetof(struct sockaddr_ll, sll_family));
            P("offsetof(sockaddr_ll.sll_protocol)", offsetof(struct sockaddr_ll, sll_protocol));
            P("offsetof(sockaddr_ll.sll_ifindex)", offsetof(struct sockaddr_ll, sll_ifindex));
            P("offsetof(sockaddr_ll.sll_hatype)", offsetof(struct sockaddr_ll, sll_hatype));
            P("offsetof(sockaddr_ll.sll_pkttype)", offsetof(struct sockaddr_ll, sll_pkttype));
            P("offsetof(sockaddr_ll.sll_halen)", offsetof(struct sockaddr_ll, sll_halen));
            P("offsetof(sockaddr_ll.sll_addr)", offsetof(struct sockaddr_ll, sll_addr));
            P("sizeof(sock_fprog)", sizeof(struct sock_fprog));
            P("offsetof(sock_fprog.len)", offsetof(struct sock_fprog, len));
            P("offsetof(sock_fprog.filter)", offsetof(struct sock_fprog, filter));
            P("sizeof(sock_filter)", sizeof(struct sock_filter));
            P("offsetof(sock_filter.code)", offsetof(struct sock_filter, code));
            P("offsetof(sock_filter.jt)", offsetof(struct sock_filter, jt));
            P("offsetof(sock_filter.jf)", offsetof(struct sock_filter, jf));
            P("offsetof(sock_filter.k)", offsetof(struct sock_filter, k));
            P("ETH_P_IP", ETH_P_IP);
            P("PACKET_HOST", PACKET_HOST);
            P("PACKET_OUTGOING", PACKET_OUTGOING);
            P("SO_ATTACH_FILTER", SO_ATTACH_FILTER);
            P("SO_DETACH_FILTER", SO_DETACH_FILTER);
            P("EOPNOTSUPP", EOPNOTSUPP);
            P("IPPROTO_ICMP", IPPROTO_ICMP);
            P("SKF_AD_OFF", SKF_AD_OFF);
            P("SKF_AD_PKTTYPE", SKF_AD_PKTTYPE);
            P("BPF_LD|BPF_W|BPF_ABS", BPF_LD|BPF_W|BPF_ABS);
            P("BPF_LD|BPF_H|BPF_ABS", BPF_LD|BPF_H|BPF_ABS);
            P("BPF_LD|BPF_B|BPF_ABS", BPF_LD|BPF_B|BPF_ABS);
            P("BPF_ALU|BPF_AND|BPF_K", BPF_ALU|BPF_AND|BPF_K);
            P("BPF_JMP|BPF_JEQ|BPF_K", BPF_JMP|BPF_JEQ|BPF_K);
            P("BPF_JMP|BPF_JSET|BPF_K", BPF_JMP|BPF_JSET|BPF_K);
            P("BPF_RET|BPF_K", BPF_RET|BPF_K);
            return 0;
        }
        """;

    [Fact]
    public void Declarations_match_the_C_headers() =>
        CHeaderValues.AssertSame(CHeaderValues.CompileAndRun(CProgram), EgressNativeLayout.Values());
}
