using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using TunLB.Core.Flows;

namespace TunLB.Linux.Netlink;

/// <summary>
/// Reads RTM_NEWROUTE, RTM_NEWNEIGH and RTM_NEWLINK payloads (the bytes after the nlmsghdr) into typed records.
/// A payload too short for its fixed header, or without the attributes a record needs, gives null; an attribute
/// of the wrong length for its type is skipped, as is everything after a malformed attribute.
/// </summary>
internal static class RtnetlinkParser
{
    public static KernelRoute? Route(ReadOnlySpan<byte> payload)
    {
        int fixedLength = Unsafe.SizeOf<Interop.rtmsg>();
        if (payload.Length < fixedLength) return null;
        var rtm = MemoryMarshal.Read<Interop.rtmsg>(payload);
        int addressLength = AddressLength(rtm.rtm_family);
        if (addressLength == 0) return null;
        IpAddress? dst = null, gateway = null;
        int oif = 0;
        var attrs = new NetlinkAttributeReader(payload, fixedLength);
        while (attrs.TryRead(out ushort type, out var value))
        {
            switch (type)
            {
                case Interop.RTA_DST when value.Length == addressLength: dst = Address(value); break;
                case Interop.RTA_OIF when value.Length == sizeof(int): oif = MemoryMarshal.Read<int>(value); break;
                case Interop.RTA_GATEWAY when value.Length == addressLength: gateway = Address(value); break;
                case Interop.RTA_VIA when Via(value) is { } via: gateway = via; break;
            }
        }
        return dst is { } d ? new KernelRoute(d, rtm.rtm_type, oif, gateway) : null;
    }

    public static KernelNeighbour? Neighbour(ReadOnlySpan<byte> payload)
    {
        int fixedLength = Unsafe.SizeOf<Interop.ndmsg>();
        if (payload.Length < fixedLength) return null;
        var ndm = MemoryMarshal.Read<Interop.ndmsg>(payload);
        int addressLength = AddressLength(ndm.ndm_family);
        if (addressLength == 0) return null;
        IpAddress? dst = null;
        byte[]? lladdr = null;
        var attrs = new NetlinkAttributeReader(payload, fixedLength);
        while (attrs.TryRead(out ushort type, out var value))
        {
            switch (type)
            {
                case Interop.NDA_DST when value.Length == addressLength: dst = Address(value); break;
                case Interop.NDA_LLADDR when value.Length == 6: lladdr = value.ToArray(); break; // Ethernet only
            }
        }
        return dst is { } d && lladdr is not null ? new KernelNeighbour(ndm.ndm_ifindex, d, lladdr, ndm.ndm_state) : null;
    }

    public static KernelLink? Link(ReadOnlySpan<byte> payload)
    {
        int fixedLength = Unsafe.SizeOf<Interop.ifinfomsg>();
        if (payload.Length < fixedLength) return null;
        var ifi = MemoryMarshal.Read<Interop.ifinfomsg>(payload);
        string? name = null;
        byte[]? address = null;
        int mtu = 0;
        var attrs = new NetlinkAttributeReader(payload, fixedLength);
        while (attrs.TryRead(out ushort type, out var value))
        {
            switch (type)
            {
                case Interop.IFLA_IFNAME: name = CString(value); break;
                case Interop.IFLA_ADDRESS when value.Length == 6: address = value.ToArray(); break;
                case Interop.IFLA_MTU when value.Length == sizeof(uint): mtu = (int)Math.Min(MemoryMarshal.Read<uint>(value), int.MaxValue); break;
            }
        }
        return name is { Length: > 0 } ? new KernelLink(ifi.ifi_index, name, ifi.ifi_type, ifi.ifi_flags, address, mtu) : null;
    }

    private static int AddressLength(byte family) => family switch
    {
        Interop.AF_INET => 4,
        Interop.AF_INET6 => 16,
        _ => 0,
    };

    private static IpAddress Address(ReadOnlySpan<byte> value) =>
        value.Length == 4 ? IpAddress.FromV4Bytes(value) : IpAddress.FromV6Bytes(value);

    // struct rtvia: a 2-byte address family, then the address.
    private static IpAddress? Via(ReadOnlySpan<byte> value)
    {
        if (value.Length < sizeof(ushort)) return null;
        ushort family = MemoryMarshal.Read<ushort>(value);
        int length = family <= byte.MaxValue ? AddressLength((byte)family) : 0;
        if (length == 0 || value.Length < sizeof(ushort) + length) return null;
        return Address(value.Slice(sizeof(ushort), length));
    }

    // IFLA_IFNAME is NUL-terminated; a name without the NUL is taken as it is.
    private static string? CString(ReadOnlySpan<byte> value)
    {
        int nul = value.IndexOf((byte)0);
        var text = nul < 0 ? value : value[..nul];
        return text.IsEmpty ? null : Encoding.UTF8.GetString(text);
    }
}
