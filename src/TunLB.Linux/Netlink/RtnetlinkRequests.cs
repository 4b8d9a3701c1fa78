using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TunLB.Core.Flows;

namespace TunLB.Linux.Netlink;

/// <summary>Writes the rtnetlink requests <see cref="RouteNetlinkSocket"/> sends: one route lookup, or a table dump.</summary>
internal static class RtnetlinkRequests
{
    /// <summary>The largest request written here: header, rtmsg, RTA_DST and RTA_SRC of IPv6 addresses.</summary>
    public static readonly int MaxLength =
        NetlinkLayout.HeaderLength + NetlinkLayout.Align(Unsafe.SizeOf<Interop.rtmsg>()) + 2 * NetlinkLayout.Align(NetlinkLayout.AttributeHeaderLength + 16);

    /// <summary>
    /// RTM_GETROUTE for <paramref name="destination"/> as `ip route get DST from SRC` asks it: RTA_DST, RTA_SRC when
    /// <paramref name="source"/> is set and of the same family, and for IPv4 RTM_F_LOOKUP_TABLE (the FIB entry, not a
    /// cached route; IPv6 has no such flag). Returns the request's length.
    /// </summary>
    public static int RouteGet(Span<byte> buffer, uint seq, IpAddress destination, IpAddress source)
    {
        bool v4 = destination.IsV4;
        bool withSource = source != default && source.IsV4 == v4;
        int addressLength = v4 ? 4 : 16;
        int at = NetlinkLayout.HeaderLength;
        var rtm = new Interop.rtmsg
        {
            rtm_family = (byte)(v4 ? Interop.AF_INET : Interop.AF_INET6),
            rtm_dst_len = (byte)(addressLength * 8),
            rtm_src_len = (byte)(withSource ? addressLength * 8 : 0),
            rtm_flags = v4 ? Interop.RTM_F_LOOKUP_TABLE : 0,
        };
        MemoryMarshal.Write(buffer[at..], in rtm);
        at += NetlinkLayout.Align(Unsafe.SizeOf<Interop.rtmsg>());
        at += Address(buffer[at..], Interop.RTA_DST, destination);
        if (withSource) at += Address(buffer[at..], Interop.RTA_SRC, source);
        Header(buffer, at, Interop.RTM_GETROUTE, Interop.NLM_F_REQUEST, seq);
        return at;
    }

    /// <summary>A dump request of <paramref name="type"/> (RTM_GETNEIGH, RTM_GETLINK) with an all-zero family header of
    /// <paramref name="fixedLength"/> bytes (AF_UNSPEC: every family). Returns the request's length.</summary>
    public static int Dump(Span<byte> buffer, ushort type, int fixedLength, uint seq)
    {
        int length = NetlinkLayout.HeaderLength + NetlinkLayout.Align(fixedLength);
        buffer[..length].Clear();
        Header(buffer, length, type, Interop.NLM_F_REQUEST | Interop.NLM_F_DUMP, seq);
        return length;
    }

    private static void Header(Span<byte> buffer, int length, ushort type, ushort flags, uint seq)
    {
        var h = new Interop.nlmsghdr { nlmsg_len = (uint)length, nlmsg_type = type, nlmsg_flags = flags, nlmsg_seq = seq };
        MemoryMarshal.Write(buffer, in h);
    }

    private static int Address(Span<byte> buffer, ushort type, IpAddress address)
    {
        int valueLength = address.IsV4 ? 4 : 16;
        int length = NetlinkLayout.AttributeHeaderLength + valueLength;
        var a = new Interop.rtattr { rta_len = (ushort)length, rta_type = type };
        MemoryMarshal.Write(buffer, in a);
        var value = buffer.Slice(NetlinkLayout.AttributeHeaderLength, valueLength);
        if (address.IsV4) address.WriteV4(value); else address.WriteV6(value);
        return NetlinkLayout.Align(length);
    }
}
