using TunLB.Tests.Shared;

namespace TunLB.Linux.Tests.Netlink;

/// <summary>The netlink / rtnetlink declarations against a gcc-compiled C program (like NativeLayoutTests).</summary>
public sealed class NetlinkNativeLayoutTests
{
    private static readonly string CProgram = new CLayoutProgram("sys/socket.h", "net/if.h", "net/if_arp.h", "linux/netlink.h", "linux/rtnetlink.h", "linux/neighbour.h", "linux/if_link.h")
        .Struct("sockaddr_nl", "nl_family", "nl_pad", "nl_pid", "nl_groups")
        .Struct("nlmsghdr", "nlmsg_len", "nlmsg_type", "nlmsg_flags", "nlmsg_seq", "nlmsg_pid")
        .Struct("nlmsgerr", "error", "msg")
        .Struct("rtattr", "rta_len", "rta_type")
        .Struct("rtmsg", "rtm_family", "rtm_dst_len", "rtm_src_len", "rtm_tos", "rtm_table", "rtm_protocol", "rtm_scope", "rtm_type", "rtm_flags")
        .Struct("ndmsg", "ndm_family", "ndm_pad1", "ndm_pad2", "ndm_ifindex", "ndm_state", "ndm_flags", "ndm_type")
        .Struct("ifinfomsg", "ifi_family", "__ifi_pad", "ifi_type", "ifi_index", "ifi_flags", "ifi_change")
        .Constants(NetlinkNativeLayout.Constants.Select(c => c.Name).ToArray())
        .Constants("NLMSG_HDRLEN", "RTA_LENGTH(0)", "NLMSG_ALIGN(13)", "RTA_ALIGN(5)", "NLMSG_ALIGN(sizeof(struct rtmsg))",
            "NLMSG_ALIGN(sizeof(struct ndmsg))", "NLMSG_ALIGN(sizeof(struct ifinfomsg))")
        .ToString();

    [Fact]
    public void Declarations_match_the_C_headers() =>
        CHeaderValues.AssertSame(CHeaderValues.CompileAndRun(CProgram), NetlinkNativeLayout.Values());
}
