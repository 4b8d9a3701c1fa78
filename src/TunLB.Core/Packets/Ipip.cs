using System.Buffers.Binary;
using TunLB.Core.Flows;

namespace TunLB.Core.Packets;

/// <summary>IP-in-IPv4 decapsulation (protocol 4, RFC 2003; 41, RFC 4213). Encapsulation is <see cref="Tunnel.Encapsulate"/>.</summary>
public static class Ipip
{
    /// <summary>
    /// Validates an outer IPv4 header carrying IP-in-IP (protocol 4, or 41 for IPv6 inside) and locates the inner packet.
    /// </summary>
    public static DropReason DecapsulateV4(ReadOnlySpan<byte> packet, out IpAddress outerSource, out int innerOffset, out int innerLength)
    {
        outerSource = default; innerOffset = 0; innerLength = 0;
        if (packet.Length < 20) return DropReason.Truncated;
        if (packet[0] >> 4 != 4) return DropReason.BadVersion;
        int ihl = (packet[0] & 0x0F) * 4;
        if (ihl < 20) return DropReason.BadHeaderLength;
        if (ihl > packet.Length) return DropReason.Truncated;
        int total = BinaryPrimitives.ReadUInt16BigEndian(packet.Slice(2));
        // Raw sockets on Linux may hand back the datagram with tot_len as received; accept total <= length.
        if (total < ihl || total > packet.Length) return DropReason.BadTotalLength;
        if (packet[9] != IpProtocol.IpIp && packet[9] != IpProtocol.Ipv6) return DropReason.NotTunnel;
        if ((BinaryPrimitives.ReadUInt16BigEndian(packet.Slice(6)) & 0x3FFF) != 0) return DropReason.Fragment; // reassembled by the kernel before raw delivery
        outerSource = IpAddress.FromV4Bytes(packet.Slice(12));
        innerOffset = ihl;
        innerLength = total - ihl;
        return DropReason.None;
    }
}
