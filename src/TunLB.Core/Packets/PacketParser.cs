using System.Buffers.Binary;
using TunLB.Core.Flows;

namespace TunLB.Core.Packets;

/// <summary>Validating parser for IPv4 and IPv6 packets as they arrive from the capture device.</summary>
public static class PacketParser
{
    /// <summary>Most IPv6 extension headers walked before giving up (a chain longer than this is refused as malformed).</summary>
    public const int MaxIPv6ExtensionHeaders = 8;

    /// <summary>Parses an IPv4 or IPv6 packet, by its version nibble. See <see cref="ParseIPv4"/> and <see cref="ParseIPv6"/>.</summary>
    public static DropReason Parse(ReadOnlySpan<byte> p, out PacketInfo info)
    {
        if (p.Length > 0 && p[0] >> 4 == 6) return ParseIPv6(p, out info);
        return ParseIPv4(p, out info);
    }

    /// <summary>
    /// Parses and validates an IPv4 header and the TCP/UDP ports behind it. Returns <see cref="DropReason.None"/>
    /// on success. Packets of other protocols parse with ports 0 and <see cref="DropReason.UnsupportedProtocol"/>;
    /// non-first fragments with ports 0 and <see cref="DropReason.Fragment"/> (the fragment fields are filled).
    /// </summary>
    public static DropReason ParseIPv4(ReadOnlySpan<byte> p, out PacketInfo info)
    {
        info = default;
        if (p.Length < 20) return DropReason.Truncated;
        int version = p[0] >> 4;
        if (version != 4) return DropReason.BadVersion;
        int ihl = (p[0] & 0x0F) * 4;
        if (ihl < 20) return DropReason.BadHeaderLength;
        if (ihl > p.Length) return DropReason.Truncated;
        int total = BinaryPrimitives.ReadUInt16BigEndian(p.Slice(2));
        if (total < ihl || total > p.Length) return DropReason.BadTotalLength;
        if (!Checksum.IsValid(p.Slice(0, ihl))) return DropReason.BadChecksum;

        ushort fragField = BinaryPrimitives.ReadUInt16BigEndian(p.Slice(6));
        int fragOffset = fragField & 0x1FFF;
        bool moreFragments = (fragField & 0x2000) != 0;
        byte proto = p[9];

        info.Tos = p[1];
        info.Ttl = p[8];
        info.Identification = BinaryPrimitives.ReadUInt16BigEndian(p.Slice(4));
        info.DontFragment = (fragField & 0x4000) != 0;
        info.IsFirstFragment = moreFragments && fragOffset == 0;
        info.IsFragment = moreFragments || fragOffset != 0;
        info.MoreFragments = moreFragments;
        info.FragmentOffset = fragOffset * 8;
        info.FragmentId = info.Identification;
        info.HeaderLength = ihl;
        info.TotalLength = total;

        var src = IpAddress.FromV4Bytes(p.Slice(12));
        var dst = IpAddress.FromV4Bytes(p.Slice(16));
        return ParseTransport(p.Slice(ihl, total - ihl), src, dst, proto, fragOffset != 0, ref info);
    }

    /// <summary>
    /// Parses and validates an IPv6 header, walks hop-by-hop, routing, destination-options, AH and fragment
    /// extension headers, and reads the TCP/UDP ports behind them. Verdicts as <see cref="ParseIPv4"/>;
    /// <see cref="PacketInfo.HeaderLength"/> is the offset of the transport header. Jumbograms (payload length 0)
    /// are refused as <see cref="DropReason.BadTotalLength"/>.
    /// </summary>
    public static DropReason ParseIPv6(ReadOnlySpan<byte> p, out PacketInfo info)
    {
        info = default;
        if (p.Length < 40) return DropReason.Truncated;
        if (p[0] >> 4 != 6) return DropReason.BadVersion;
        int payload = BinaryPrimitives.ReadUInt16BigEndian(p.Slice(4));
        int total = 40 + payload;
        if (payload == 0 || total > p.Length) return DropReason.BadTotalLength;

        info.IsV6 = true;
        info.Tos = (byte)(((p[0] & 0x0F) << 4) | (p[1] >> 4));
        info.Ttl = p[7];
        info.TotalLength = total;
        var src = IpAddress.FromV6Bytes(p.Slice(8));
        var dst = IpAddress.FromV6Bytes(p.Slice(24));

        byte next = p[6];
        int off = 40;
        bool nonFirst = false;
        for (int n = 0; ; n++)
        {
            if (next is not (IpProtocol.HopByHop or IpProtocol.Routing or IpProtocol.DestinationOptions
                             or IpProtocol.Fragment or IpProtocol.Ah))
                break;
            if (n == MaxIPv6ExtensionHeaders) return DropReason.BadHeaderLength;
            if (next == IpProtocol.HopByHop && n != 0) return DropReason.BadHeaderLength; // only right after the header
            if (off + 8 > total) return DropReason.Truncated;
            int len;
            if (next == IpProtocol.Fragment)
            {
                if (info.IsFragment) return DropReason.BadHeaderLength;       // two fragment headers
                ushort field = BinaryPrimitives.ReadUInt16BigEndian(p.Slice(off + 2));
                info.IsFragment = true;
                info.FragmentOffset = field & 0xFFF8;
                info.MoreFragments = (field & 1) != 0;
                info.FragmentId = BinaryPrimitives.ReadUInt32BigEndian(p.Slice(off + 4));
                info.Identification = (ushort)info.FragmentId;
                info.IsFirstFragment = info.MoreFragments && info.FragmentOffset == 0;
                nonFirst = info.FragmentOffset != 0;
                len = 8;
            }
            else if (next == IpProtocol.Ah) len = (p[off + 1] + 2) * 4;
            else len = (p[off + 1] + 1) * 8;
            next = p[off];
            off += len;
            if (off > total) return DropReason.Truncated;
            if (nonFirst) break;
        }
        info.HeaderLength = off;
        return ParseTransport(p.Slice(off, total - off), src, dst, next, nonFirst, ref info);
    }

    private static DropReason ParseTransport(ReadOnlySpan<byte> l4, IpAddress src, IpAddress dst, byte proto, bool nonFirstFragment,
        ref PacketInfo info)
    {
        if (nonFirstFragment)
        {
            info.Flow = new FlowKey(src, dst, 0, 0, proto);
            return DropReason.Fragment;
        }
        switch (proto)
        {
            case IpProtocol.Tcp:
                if (l4.Length < 20) return DropReason.Truncated;
                if ((l4[12] >> 4) * 4 < 20) return DropReason.BadHeaderLength;
                info.TcpFlags = l4[13];
                info.Flow = new FlowKey(src, dst, BinaryPrimitives.ReadUInt16BigEndian(l4), BinaryPrimitives.ReadUInt16BigEndian(l4.Slice(2)), proto);
                return DropReason.None;
            case IpProtocol.Udp:
                if (l4.Length < 8) return DropReason.Truncated;
                info.Flow = new FlowKey(src, dst, BinaryPrimitives.ReadUInt16BigEndian(l4), BinaryPrimitives.ReadUInt16BigEndian(l4.Slice(2)), proto);
                return DropReason.None;
            default:
                info.Flow = new FlowKey(src, dst, 0, 0, proto);
                return DropReason.UnsupportedProtocol;
        }
    }
}
