using System.Buffers.Binary;
using TunLB.Core.Flows;

namespace TunLB.Core.Packets;

/// <summary>Validating parser for IPv4 packets as they arrive from the capture device.</summary>
public static class PacketParser
{
    /// <summary>
    /// Parses and validates an IPv4 header and the TCP/UDP ports behind it. Returns <see cref="DropReason.None"/>
    /// on success. Packets of other protocols parse with ports 0 and <see cref="DropReason.UnsupportedProtocol"/>.
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
        info.HeaderLength = ihl;
        info.TotalLength = total;

        var src = IpAddress.FromV4Bytes(p.Slice(12));
        var dst = IpAddress.FromV4Bytes(p.Slice(16));

        if (fragOffset != 0)
        {
            info.Flow = new FlowKey(src, dst, 0, 0, proto);
            return DropReason.Fragment;
        }

        var l4 = p.Slice(ihl, total - ihl);
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
