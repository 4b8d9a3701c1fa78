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

    /// <summary>
    /// Splits one record (a message or an attribute: a header whose length field covers header and body, padded to 4)
    /// off the front of <paramref name="rest"/>: its body and what follows it. False when <paramref name="length"/> is
    /// shorter than the header or longer than what is left: the caller stops its walk there.
    /// </summary>
    public static bool TrySplit(ReadOnlySpan<byte> rest, int headerLength, uint length, out ReadOnlySpan<byte> body, out ReadOnlySpan<byte> after)
    {
        body = after = default;
        if (length < (uint)headerLength || length > (uint)rest.Length) return false;
        body = rest[headerLength..(int)length];
        int next = Align((int)length);
        after = next >= rest.Length ? default : rest[next..];
        return true;
    }
}
