using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace TunLB.Linux.Tests.Netlink;

/// <summary>
/// Sizes, offsets and constants of the netlink / rtnetlink declarations, by the C name the test program prints for
/// them (NetlinkNativeLayoutTests compares them with a gcc-compiled program).
/// </summary>
internal static class NetlinkNativeLayout
{
    public static IReadOnlyDictionary<string, long> Values()
    {
        var v = new Dictionary<string, long>();
        Struct<Interop.sockaddr_nl>(v, "sockaddr_nl", "nl_family", "nl_pad", "nl_pid", "nl_groups");
        Struct<Interop.nlmsghdr>(v, "nlmsghdr", "nlmsg_len", "nlmsg_type", "nlmsg_flags", "nlmsg_seq", "nlmsg_pid");
        Struct<Interop.nlmsgerr>(v, "nlmsgerr", "error", "msg");
        Struct<Interop.rtattr>(v, "rtattr", "rta_len", "rta_type");
        Struct<Interop.rtmsg>(v, "rtmsg", "rtm_family", "rtm_dst_len", "rtm_src_len", "rtm_tos", "rtm_table", "rtm_protocol", "rtm_scope", "rtm_type", "rtm_flags");
        Struct<Interop.ndmsg>(v, "ndmsg", "ndm_family", "ndm_pad1", "ndm_pad2", "ndm_ifindex", "ndm_state", "ndm_flags", "ndm_type");
        Struct<Interop.ifinfomsg>(v, "ifinfomsg", "ifi_family", "__ifi_pad", "ifi_type", "ifi_index", "ifi_flags", "ifi_change");
        foreach (var (name, value) in Constants) v[name] = value;
        v["NLMSG_HDRLEN"] = TunLB.Linux.Netlink.NetlinkLayout.HeaderLength;
        v["RTA_LENGTH(0)"] = TunLB.Linux.Netlink.NetlinkLayout.AttributeHeaderLength;
        v["NLMSG_ALIGN(13)"] = TunLB.Linux.Netlink.NetlinkLayout.Align(13);
        v["RTA_ALIGN(5)"] = TunLB.Linux.Netlink.NetlinkLayout.Align(5);
        v["NLMSG_ALIGN(sizeof(struct rtmsg))"] = TunLB.Linux.Netlink.NetlinkLayout.Align(Unsafe.SizeOf<Interop.rtmsg>());
        v["NLMSG_ALIGN(sizeof(struct ndmsg))"] = TunLB.Linux.Netlink.NetlinkLayout.Align(Unsafe.SizeOf<Interop.ndmsg>());
        v["NLMSG_ALIGN(sizeof(struct ifinfomsg))"] = TunLB.Linux.Netlink.NetlinkLayout.Align(Unsafe.SizeOf<Interop.ifinfomsg>());
        return v;
    }

    /// <summary>The constants by their C names, for the C program too.</summary>
    public static readonly (string Name, long Value)[] Constants =
    [
        ("AF_NETLINK", Interop.AF_NETLINK), ("NETLINK_ROUTE", Interop.NETLINK_ROUTE),
        ("NLM_F_REQUEST", Interop.NLM_F_REQUEST), ("NLM_F_MULTI", Interop.NLM_F_MULTI), ("NLM_F_DUMP_INTR", Interop.NLM_F_DUMP_INTR),
        ("NLM_F_ROOT", Interop.NLM_F_ROOT), ("NLM_F_MATCH", Interop.NLM_F_MATCH), ("NLM_F_DUMP", Interop.NLM_F_DUMP),
        ("NLMSG_NOOP", Interop.NLMSG_NOOP), ("NLMSG_ERROR", Interop.NLMSG_ERROR), ("NLMSG_DONE", Interop.NLMSG_DONE),
        ("NLMSG_OVERRUN", Interop.NLMSG_OVERRUN), ("NLMSG_ALIGNTO", Interop.NLMSG_ALIGNTO), ("RTA_ALIGNTO", Interop.RTA_ALIGNTO),
        ("RTM_NEWLINK", Interop.RTM_NEWLINK), ("RTM_GETLINK", Interop.RTM_GETLINK), ("RTM_NEWROUTE", Interop.RTM_NEWROUTE),
        ("RTM_GETROUTE", Interop.RTM_GETROUTE), ("RTM_NEWNEIGH", Interop.RTM_NEWNEIGH), ("RTM_GETNEIGH", Interop.RTM_GETNEIGH),
        ("RTA_DST", Interop.RTA_DST), ("RTA_SRC", Interop.RTA_SRC), ("RTA_OIF", Interop.RTA_OIF), ("RTA_GATEWAY", Interop.RTA_GATEWAY),
        ("RTA_VIA", Interop.RTA_VIA), ("RTN_UNSPEC", Interop.RTN_UNSPEC), ("RTN_UNICAST", Interop.RTN_UNICAST), ("RTN_LOCAL", Interop.RTN_LOCAL),
        ("RTM_F_LOOKUP_TABLE", Interop.RTM_F_LOOKUP_TABLE),
        ("NLA_F_NESTED", Interop.NLA_F_NESTED), ("NLA_F_NET_BYTEORDER", Interop.NLA_F_NET_BYTEORDER), ("(__u16)NLA_TYPE_MASK", Interop.NLA_TYPE_MASK),
        ("NDA_DST", Interop.NDA_DST), ("NDA_LLADDR", Interop.NDA_LLADDR),
        ("NUD_NONE", Interop.NUD_NONE), ("NUD_INCOMPLETE", Interop.NUD_INCOMPLETE), ("NUD_REACHABLE", Interop.NUD_REACHABLE),
        ("NUD_STALE", Interop.NUD_STALE), ("NUD_DELAY", Interop.NUD_DELAY), ("NUD_PROBE", Interop.NUD_PROBE),
        ("NUD_FAILED", Interop.NUD_FAILED), ("NUD_NOARP", Interop.NUD_NOARP), ("NUD_PERMANENT", Interop.NUD_PERMANENT),
        ("IFLA_ADDRESS", Interop.IFLA_ADDRESS), ("IFLA_IFNAME", Interop.IFLA_IFNAME), ("IFLA_MTU", Interop.IFLA_MTU),
        ("ARPHRD_ETHER", Interop.ARPHRD_ETHER), ("ARPHRD_LOOPBACK", Interop.ARPHRD_LOOPBACK), ("ARPHRD_NONE", Interop.ARPHRD_NONE),
        ("ARPHRD_VOID", Interop.ARPHRD_VOID), ("IFF_UP", Interop.IFF_UP),
    ];

    private static void Struct<T>(Dictionary<string, long> v, string name, params string[] fields)
    {
        v[$"sizeof({name})"] = Unsafe.SizeOf<T>();
        foreach (var f in fields) v[$"offsetof({name}.{f})"] = Marshal.OffsetOf<T>(f).ToInt64();
    }
}
