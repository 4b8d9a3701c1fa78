using System.Buffers.Binary;

namespace TunLB.Core.Packets;

/// <summary>
/// Undoing the kernel's transmit offloads on packets captured before a NIC (or veth) would have done the work:
/// completing a CHECKSUM_PARTIAL transport checksum and cutting a TCP GSO/GRO super-packet into MSS-sized segments.
/// Pure functions over spans; nothing allocates or throws on bad input (they return false / 0 instead).
/// </summary>
/// <remarks>
/// Only IPv4 (unfragmented) and IPv6 whose next header is directly TCP or UDP are handled; IPv6 extension headers
/// make these functions return false (the caller drops and counts such packets).
/// </remarks>
public static class Offload
{
    private const byte Tcp = 6, Udp = 17;

    /// <summary>
    /// Locates the transport header: (offset, protocol, transport length). False for anything not IPv4/IPv6 carrying
    /// TCP or UDP in one unfragmented packet whose lengths are consistent with <paramref name="packet"/>.
    /// </summary>
    public static bool TryLocateTransport(ReadOnlySpan<byte> packet, out int l4Offset, out byte protocol, out int l4Length)
    {
        l4Offset = 0; protocol = 0; l4Length = 0;
        if (packet.Length < 20) return false;
        int version = packet[0] >> 4;
        if (version == 4)
        {
            int ihl = (packet[0] & 0x0F) * 4;
            int total = BinaryPrimitives.ReadUInt16BigEndian(packet.Slice(2));
            if (ihl < 20 || total < ihl || total > packet.Length) return false;
            if ((BinaryPrimitives.ReadUInt16BigEndian(packet.Slice(6)) & 0x3FFF) != 0) return false; // MF or offset
            protocol = packet[9];
            l4Offset = ihl;
            l4Length = total - ihl;
        }
        else if (version == 6)
        {
            if (packet.Length < 40) return false;
            int payload = BinaryPrimitives.ReadUInt16BigEndian(packet.Slice(4));
            if (40 + payload > packet.Length) return false;
            protocol = packet[6];
            l4Offset = 40;
            l4Length = payload;
        }
        else return false;
        if (protocol == Tcp) return l4Length >= 20 && (packet[l4Offset + 12] >> 4) * 4 is var d && d >= 20 && d <= l4Length;
        if (protocol == Udp) return l4Length >= 8;
        return false;
    }

    /// <summary>
    /// Writes the full TCP or UDP checksum of <paramref name="packet"/> (an IP packet whose transport checksum field holds
    /// anything, typically only the pseudo-header sum of a CHECKSUM_PARTIAL skb). False, packet unchanged, when the
    /// packet is not one <see cref="TryLocateTransport"/> accepts.
    /// </summary>
    public static bool CompleteChecksum(Span<byte> packet)
    {
        if (!TryLocateTransport(packet, out int off, out byte proto, out int len)) return false;
        int field = off + (proto == Tcp ? 16 : 6);
        packet[field] = 0; packet[field + 1] = 0;
        ushort sum = Checksum.Finish(Checksum.Add(PseudoHeader(packet, proto, len), packet.Slice(off, len)));
        if (proto == Udp && sum == 0) sum = 0xFFFF; // RFC 768: zero means "no checksum"
        BinaryPrimitives.WriteUInt16BigEndian(packet.Slice(field), sum);
        return true;
    }

    /// <summary>
    /// Completes the TCP/UDP checksum of a packet that a local sender left CHECKSUM_PARTIAL where nothing flags it (an
    /// AF_XDP descriptor carries no skb metadata): when the field holds exactly the folded pseudo-header sum and the
    /// packet's checksum does not verify, the full checksum is written. True when it completed one.
    /// </summary>
    /// <remarks>
    /// A guess: a corrupt packet whose field happens to equal its pseudo-header sum (about 1 in 65,536 corrupt packets)
    /// gets a valid checksum here and reaches the real server as if intact. A packet whose full checksum verifies is never
    /// touched, so intact packets from a wire pass unchanged. The cheap test (the field against the pseudo-header sum)
    /// comes first; the payload is summed only for packets that pass it.
    /// </remarks>
    public static bool CompletePartialChecksum(Span<byte> packet)
    {
        if (!TryLocateTransport(packet, out int off, out byte proto, out int len)) return false;
        int field = off + (proto == Tcp ? 16 : 6);
        uint pseudo = PseudoHeader(packet, proto, len);
        if (BinaryPrimitives.ReadUInt16BigEndian(packet.Slice(field)) != (ushort)~Checksum.Finish(pseudo)) return false;
        if (Checksum.Finish(Checksum.Add(pseudo, packet.Slice(off, len))) == 0) return false; // it verifies: leave it
        return CompleteChecksum(packet);
    }

    /// <summary>True when the TCP/UDP checksum of <paramref name="packet"/> verifies (for tests and diagnostics).</summary>
    public static bool TransportChecksumValid(ReadOnlySpan<byte> packet)
    {
        if (!TryLocateTransport(packet, out int off, out byte proto, out int len)) return false;
        if (proto == Udp && BinaryPrimitives.ReadUInt16BigEndian(packet.Slice(off + 6)) == 0 && packet[0] >> 4 == 4) return true;
        return Checksum.Finish(Checksum.Add(PseudoHeader(packet, proto, len), packet.Slice(off, len))) == 0;
    }

    /// <summary>
    /// The number of segments a TCP super-packet cuts into with <paramref name="mss"/> payload bytes per segment
    /// (at least 1); 0 when <paramref name="packet"/> is not an unfragmented IPv4/IPv6 TCP packet or mss is 0.
    /// </summary>
    public static int TcpSegmentCount(ReadOnlySpan<byte> packet, int mss)
    {
        if (mss <= 0 || !TryLocateTransport(packet, out int off, out byte proto, out int len) || proto != Tcp) return 0;
        int payload = len - (packet[off + 12] >> 4) * 4;
        return payload <= mss ? 1 : (payload + mss - 1) / mss;
    }

    /// <summary>
    /// Writes segment <paramref name="index"/> (0-based, below <see cref="TcpSegmentCount"/>) of the TCP super-packet
    /// <paramref name="packet"/> into <paramref name="destination"/>, as the kernel's TCP segmentation would: the IP and
    /// TCP headers copied, IPv4 total length / IPv6 payload length for this segment, IPv4 ID + index and a new header
    /// checksum, sequence number + index × mss, FIN and PSH only on the last segment, CWR only on the first, and a full
    /// TCP checksum. Returns the segment's length, or 0 when the input is unusable or the destination too small.
    /// </summary>
    public static int WriteTcpSegment(ReadOnlySpan<byte> packet, int mss, int index, Span<byte> destination)
    {
        int count = TcpSegmentCount(packet, mss);
        if (count == 0 || (uint)index >= (uint)count) return 0;
        TryLocateTransport(packet, out int off, out _, out int len);
        int tcpHeader = (packet[off + 12] >> 4) * 4;
        int headers = off + tcpHeader;
        int payload = len - tcpHeader;
        int start = index * mss;
        int segPayload = Math.Min(mss, payload - start);
        if (segPayload < 0) segPayload = 0;
        int total = headers + segPayload;
        if (destination.Length < total) return 0;

        packet.Slice(0, headers).CopyTo(destination);
        packet.Slice(headers + start, segPayload).CopyTo(destination.Slice(headers));
        if (packet[0] >> 4 == 4)
        {
            BinaryPrimitives.WriteUInt16BigEndian(destination.Slice(2), (ushort)total);
            ushort id = BinaryPrimitives.ReadUInt16BigEndian(packet.Slice(4));
            BinaryPrimitives.WriteUInt16BigEndian(destination.Slice(4), (ushort)(id + index));
            destination[10] = 0; destination[11] = 0;
            BinaryPrimitives.WriteUInt16BigEndian(destination.Slice(10), Checksum.Compute(destination.Slice(0, off)));
        }
        else
        {
            BinaryPrimitives.WriteUInt16BigEndian(destination.Slice(4), (ushort)(total - 40));
        }
        var tcp = destination.Slice(off);
        uint seq = BinaryPrimitives.ReadUInt32BigEndian(packet.Slice(off + 4));
        BinaryPrimitives.WriteUInt32BigEndian(tcp.Slice(4), unchecked(seq + (uint)start));
        byte flags = packet[off + 13];
        const byte Fin = 0x01, Psh = 0x08, Cwr = 0x80;
        if (index != count - 1) flags &= unchecked((byte)~(Fin | Psh));
        if (index != 0) flags &= unchecked((byte)~Cwr);
        tcp[13] = flags;
        CompleteChecksum(destination.Slice(0, total));
        return total;
    }

    private static uint PseudoHeader(ReadOnlySpan<byte> packet, byte protocol, int l4Length)
    {
        uint sum = packet[0] >> 4 == 4
            ? Checksum.Add(0, packet.Slice(12, 8))
            : Checksum.Add(0, packet.Slice(8, 32));
        return sum + protocol + ((uint)l4Length >> 16) + ((uint)l4Length & 0xFFFF);
    }
}
