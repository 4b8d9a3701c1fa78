using System.Runtime.InteropServices;

namespace TunLB.Linux;

internal static partial class Interop
{
    // <bits/socket.h>, <linux/netlink.h>
    internal const int AF_NETLINK = 16;
    internal const int NETLINK_ROUTE = 0;

    internal const ushort NLM_F_REQUEST = 0x01;
    internal const ushort NLM_F_MULTI = 0x02;
    internal const ushort NLM_F_DUMP_INTR = 0x10;
    internal const ushort NLM_F_ROOT = 0x100;
    internal const ushort NLM_F_MATCH = 0x200;
    internal const ushort NLM_F_DUMP = NLM_F_ROOT | NLM_F_MATCH;

    internal const ushort NLMSG_NOOP = 1;
    internal const ushort NLMSG_ERROR = 2;
    internal const ushort NLMSG_DONE = 3;
    internal const ushort NLMSG_OVERRUN = 4;

    internal const int NLMSG_ALIGNTO = 4;

    /// <summary>struct sockaddr_nl from &lt;linux/netlink.h&gt;.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct sockaddr_nl
    {
        public ushort nl_family;
        public ushort nl_pad;
        public uint nl_pid;
        public uint nl_groups;
    }

    /// <summary>struct nlmsghdr from &lt;linux/netlink.h&gt; (host byte order, like everything in netlink).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct nlmsghdr
    {
        public uint nlmsg_len;
        public ushort nlmsg_type;
        public ushort nlmsg_flags;
        public uint nlmsg_seq;
        public uint nlmsg_pid;
    }

    /// <summary>struct nlmsgerr from &lt;linux/netlink.h&gt;: error is 0 or -errno; msg is the request's header.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct nlmsgerr
    {
        public int error;
        public nlmsghdr msg;
    }
}
