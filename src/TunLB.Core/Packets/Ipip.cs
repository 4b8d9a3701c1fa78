using System.Buffers.Binary;
using TunLB.Core.Flows;

namespace TunLB.Core.Packets;

/// <summary>IPv4-in-IPv4 (IP protocol 4, RFC 2003) encapsulation and decapsulation.</summary>
public static class Ipip
{
    public const int OuterHeaderLength = 20;

    /// <summary>
    /// Writes an outer IPv4 header followed by the inner packet into <paramref name="output"/>.
    /// TOS and DF are copied from the inner header (RFC 2003 section 3.1). When <paramref name="innerTtlIncrement"/>
    /// is non-zero the inner TTL is raised by that much and its checksum fixed incrementally, undoing the
    /// decrement of a kernel forward path so the inner packet leaves as it arrived.
    /// Returns the bytes written, or -1 when <paramref name="output"/> is too small or the result exceeds 65535 bytes.
    /// </summary>
    public static int EncapsulateV4(ReadOnlySpan<byte> inner, Span<byte> output, uint outerSource, uint outerDestination,
        byte ttl, ushort identification, byte innerTtlIncrement = 0)
    {
        int len = OuterHeaderLength + inner.Length;
        if (len > output.Length || len > 0xFFFF || inner.Length < 20) return -1;

        var h = output.Slice(0, OuterHeaderLength);
        h[0] = 0x45;
        h[1] = inner[1];                                                   // TOS copied (DSCP + ECN)
        BinaryPrimitives.WriteUInt16BigEndian(h.Slice(2), (ushort)len);
        BinaryPrimitives.WriteUInt16BigEndian(h.Slice(4), identification);
        BinaryPrimitives.WriteUInt16BigEndian(h.Slice(6), (ushort)(inner[6] & 0x40) == 0 ? (ushort)0 : (ushort)0x4000); // DF copied
        h[8] = ttl;
        h[9] = IpProtocol.IpIp;
        h[10] = 0; h[11] = 0;
        BinaryPrimitives.WriteUInt32BigEndian(h.Slice(12), outerSource);
        BinaryPrimitives.WriteUInt32BigEndian(h.Slice(16), outerDestination);
        BinaryPrimitives.WriteUInt16BigEndian(h.Slice(10), Checksum.Compute(h));

        var body = output.Slice(OuterHeaderLength, inner.Length);
        inner.CopyTo(body);
        if (innerTtlIncrement != 0)
        {
            // TTL shares a 16-bit word with the protocol field (bytes 8-9).
            ushort oldWord = BinaryPrimitives.ReadUInt16BigEndian(body.Slice(8));
            int newTtl = body[8] + innerTtlIncrement;
            body[8] = (byte)(newTtl > 255 ? 255 : newTtl);
            ushort newWord = BinaryPrimitives.ReadUInt16BigEndian(body.Slice(8));
            ushort csum = BinaryPrimitives.ReadUInt16BigEndian(body.Slice(10));
            BinaryPrimitives.WriteUInt16BigEndian(body.Slice(10), Checksum.Update(csum, oldWord, newWord));
        }
        return len;
    }

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
