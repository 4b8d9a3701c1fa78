using System.Runtime.CompilerServices;

namespace TunLB.Linux.Netlink;

/// <summary>Netlink framing sizes and alignment (NLMSG_ALIGN, NLMSG_HDRLEN, RTA_ALIGN, RTA_LENGTH).</summary>
internal static class NetlinkLayout
{
    /// <summary>NLMSG_HDRLEN: the aligned size of struct nlmsghdr.</summary>
    public static readonly int HeaderLength = Align(Unsafe.SizeOf<Interop.nlmsghdr>());

    /// <summary>Size of struct rtattr (already aligned): RTA_LENGTH(0).</summary>
    public static readonly int AttributeHeaderLength = Align(Unsafe.SizeOf<Interop.rtattr>());

    /// <summary>NLMSG_ALIGN / RTA_ALIGN (both align to 4 bytes).</summary>
    public static int Align(int length) => (length + Interop.NLMSG_ALIGNTO - 1) & ~(Interop.NLMSG_ALIGNTO - 1);
}
