using System.Runtime.InteropServices;

namespace TunLB.Linux;

internal static partial class Interop
{
    // <linux/rtnetlink.h> message types
    internal const ushort RTM_NEWLINK = 16;
    internal const ushort RTM_GETLINK = 18;
    internal const ushort RTM_NEWROUTE = 24;
    internal const ushort RTM_GETROUTE = 26;
    internal const ushort RTM_NEWNEIGH = 28;
    internal const ushort RTM_GETNEIGH = 30;

    // enum rtattr_type_t
    internal const ushort RTA_DST = 1;
    internal const ushort RTA_SRC = 2;
    internal const ushort RTA_OIF = 4;
    internal const ushort RTA_GATEWAY = 5;
    internal const ushort RTA_VIA = 18;

    // rtm_type values
    internal const byte RTN_UNSPEC = 0;
    internal const byte RTN_UNICAST = 1;
    internal const byte RTN_LOCAL = 2;

    // rtm_flags: return the FIB entry's table rather than a cached route (what `ip route get` asks for IPv4)
    internal const uint RTM_F_LOOKUP_TABLE = 0x1000;

    internal const int RTA_ALIGNTO = 4;

    // <linux/netlink.h>: attribute type bits that are flags, not part of the type
    internal const ushort NLA_F_NESTED = 0x8000;
    internal const ushort NLA_F_NET_BYTEORDER = 0x4000;
    internal const ushort NLA_TYPE_MASK = unchecked((ushort)~(NLA_F_NESTED | NLA_F_NET_BYTEORDER));

    // <linux/neighbour.h>
    internal const ushort NDA_DST = 1;
    internal const ushort NDA_LLADDR = 2;
    internal const ushort NUD_NONE = 0x00;
    internal const ushort NUD_INCOMPLETE = 0x01;
    internal const ushort NUD_REACHABLE = 0x02;
    internal const ushort NUD_STALE = 0x04;
    internal const ushort NUD_DELAY = 0x08;
    internal const ushort NUD_PROBE = 0x10;
    internal const ushort NUD_FAILED = 0x20;
    internal const ushort NUD_NOARP = 0x40;
    internal const ushort NUD_PERMANENT = 0x80;

    // <linux/if_link.h>
    internal const ushort IFLA_ADDRESS = 1;
    internal const ushort IFLA_IFNAME = 3;
    internal const ushort IFLA_MTU = 4;

    // <net/if_arp.h>, <net/if.h>
    internal const ushort ARPHRD_ETHER = 1;
    internal const ushort ARPHRD_LOOPBACK = 772;
    internal const ushort ARPHRD_NONE = 0xFFFE;
    internal const ushort ARPHRD_VOID = 0xFFFF;
    internal const uint IFF_UP = 0x1;

    /// <summary>struct rtattr from &lt;linux/rtnetlink.h&gt;: rta_len counts the header, the value follows aligned.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct rtattr
    {
        public ushort rta_len;
        public ushort rta_type;
    }

    /// <summary>struct rtmsg from &lt;linux/rtnetlink.h&gt;.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct rtmsg
    {
        public byte rtm_family;
        public byte rtm_dst_len;
        public byte rtm_src_len;
        public byte rtm_tos;
        public byte rtm_table;
        public byte rtm_protocol;
        public byte rtm_scope;
        public byte rtm_type;
        public uint rtm_flags;
    }

    /// <summary>struct ndmsg from &lt;linux/neighbour.h&gt;.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct ndmsg
    {
        public byte ndm_family;
        public byte ndm_pad1;
        public ushort ndm_pad2;
        public int ndm_ifindex;
        public ushort ndm_state;
        public byte ndm_flags;
        public byte ndm_type;
    }

    /// <summary>struct ifinfomsg from &lt;linux/rtnetlink.h&gt;.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct ifinfomsg
    {
        public byte ifi_family;
        public byte __ifi_pad;
        public ushort ifi_type;
        public int ifi_index;
        public uint ifi_flags;
        public uint ifi_change;
    }
}
