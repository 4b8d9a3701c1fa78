using System.Buffers.Binary;
using TunLB.Core.Flows;

namespace TunLB.Core.Packets;

/// <summary>What an ICMP / ICMPv6 message to a VIP asks of the director.</summary>
public enum IcmpKind : byte
{
    /// <summary>Anything the director does not handle.</summary>
    Other = 0,
    /// <summary>Echo request (ICMP 8, ICMPv6 128).</summary>
    EchoRequest,
    /// <summary>An error quoting a packet the VIP sent (destination unreachable incl. frag-needed, Packet Too Big, time exceeded).</summary>
    Error,
}

/// <summary>ICMP (RFC 792, RFC 1191) and ICMPv6 (RFC 4443) parsing and generation for the director.</summary>
public static class Icmp
{
    public const byte V4EchoReply = 0, V4DestinationUnreachable = 3, V4EchoRequest = 8, V4TimeExceeded = 11;
    public const byte V4CodeFragNeeded = 4;
    public const byte V6DestinationUnreachable = 1, V6PacketTooBig = 2, V6TimeExceeded = 3, V6EchoRequest = 128, V6EchoReply = 129;
    /// <summary>The IPv6 minimum link MTU (RFC 8200): a Packet Too Big never announces less, and its quote stays within it.</summary>
    public const int Ipv6MinimumMtu = 1280;
    /// <summary>Bytes of the offending datagram quoted by an IPv4 error beyond its IP header (RFC 792).</summary>
    public const int V4QuotedPayload = 8;

    /// <summary>
    /// Classifies an ICMP (IPv4 packet with protocol 1) or ICMPv6 message, verifying its checksum. For an error it
    /// returns, in <paramref name="flow"/>, the quoted packet's 5-tuple reversed (client:port -&gt; VIP:port): the key
    /// of the connection the error is about. The quoted packet must come from the outer destination (the VIP),
    /// carry TCP or UDP and include its 8 first transport bytes.
    /// </summary>
    /// <param name="packet">The whole packet; <paramref name="info"/> is its parse (verdict UnsupportedProtocol).</param>
    public static DropReason Classify(ReadOnlySpan<byte> packet, in PacketInfo info, out IcmpKind kind, out FlowKey flow)
    {
        kind = IcmpKind.Other;
        flow = default;
        if (info.IsFragment) return DropReason.Fragment;
        var msg = packet.Slice(info.HeaderLength, info.TotalLength - info.HeaderLength);
        if (msg.Length < 8) return DropReason.BadIcmp;
        if (info.IsV6)
        {
            uint sum = Checksum.PseudoHeader(info.Flow.Source, info.Flow.Destination, IpProtocol.Icmpv6, msg.Length);
            if (Checksum.Finish(Checksum.Add(sum, msg)) != 0) return DropReason.BadIcmp;
            byte t = msg[0];
            if (t == V6EchoRequest) { kind = IcmpKind.EchoRequest; return DropReason.None; }
            if (t is not (V6DestinationUnreachable or V6PacketTooBig or V6TimeExceeded)) return DropReason.IcmpUnsupported;
            kind = IcmpKind.Error;
            return QuotedV6(msg.Slice(8), info.Flow.Destination, out flow);
        }
        else
        {
            if (!Checksum.IsValid(msg)) return DropReason.BadIcmp;
            byte t = msg[0];
            if (t == V4EchoRequest) { kind = IcmpKind.EchoRequest; return DropReason.None; }
            if (t is not (V4DestinationUnreachable or V4TimeExceeded)) return DropReason.IcmpUnsupported;
            kind = IcmpKind.Error;
            return QuotedV4(msg.Slice(8), info.Flow.Destination, out flow);
        }
    }

    private static DropReason QuotedV4(ReadOnlySpan<byte> q, in IpAddress vip, out FlowKey flow)
    {
        flow = default;
        if (q.Length < 20 || q[0] >> 4 != 4) return DropReason.BadIcmp;
        int ihl = (q[0] & 0x0F) * 4;
        if (ihl < 20 || q.Length < ihl + 8) return DropReason.BadIcmp;
        if ((BinaryPrimitives.ReadUInt16BigEndian(q.Slice(6)) & 0x1FFF) != 0) return DropReason.BadIcmp; // quotes a non-first fragment: no ports
        byte proto = q[9];
        if (proto != IpProtocol.Tcp && proto != IpProtocol.Udp) return DropReason.BadIcmp;
        var src = IpAddress.FromV4Bytes(q.Slice(12));
        if (src != vip) return DropReason.BadIcmp;
        var dst = IpAddress.FromV4Bytes(q.Slice(16));
        var l4 = q.Slice(ihl);
        flow = new FlowKey(dst, src, BinaryPrimitives.ReadUInt16BigEndian(l4.Slice(2)), BinaryPrimitives.ReadUInt16BigEndian(l4), proto);
        return DropReason.None;
    }

    private static DropReason QuotedV6(ReadOnlySpan<byte> q, in IpAddress vip, out FlowKey flow)
    {
        flow = default;
        if (q.Length < 40 || q[0] >> 4 != 6) return DropReason.BadIcmp;
        byte next = q[6];
        int off = 40;
        for (int n = 0; n < PacketParser.MaxIPv6ExtensionHeaders; n++)
        {
            if (next is not (IpProtocol.HopByHop or IpProtocol.Routing or IpProtocol.DestinationOptions or IpProtocol.Fragment or IpProtocol.Ah))
                break;
            if (off + 8 > q.Length) return DropReason.BadIcmp;
            if (next == IpProtocol.Fragment && (BinaryPrimitives.ReadUInt16BigEndian(q.Slice(off + 2)) & 0xFFF8) != 0) return DropReason.BadIcmp;
            int len = next == IpProtocol.Fragment ? 8 : next == IpProtocol.Ah ? (q[off + 1] + 2) * 4 : (q[off + 1] + 1) * 8;
            next = q[off];
            off += len;
        }
        if (next != IpProtocol.Tcp && next != IpProtocol.Udp) return DropReason.BadIcmp;
        if (q.Length < off + 8) return DropReason.BadIcmp;
        var src = IpAddress.FromV6Bytes(q.Slice(8));
        if (src != vip) return DropReason.BadIcmp;
        var dst = IpAddress.FromV6Bytes(q.Slice(24));
        var l4 = q.Slice(off);
        flow = new FlowKey(dst, src, BinaryPrimitives.ReadUInt16BigEndian(l4.Slice(2)), BinaryPrimitives.ReadUInt16BigEndian(l4), next);
        return DropReason.None;
    }

    /// <summary>
    /// Builds ICMP destination unreachable / fragmentation needed (type 3 code 4, RFC 1191) from
    /// <paramref name="source"/> to the offending packet's source, announcing <paramref name="nextHopMtu"/>, quoting the
    /// offending IPv4 header and its first 8 payload bytes. Returns the length, or -1 if the output is too small.
    /// </summary>
    public static int BuildFragNeededV4(ReadOnlySpan<byte> offending, Span<byte> output, in IpAddress source, ushort nextHopMtu,
        ushort ipId, byte ttl)
    {
        int ihl = (offending[0] & 0x0F) * 4;
        int total = BinaryPrimitives.ReadUInt16BigEndian(offending.Slice(2));
        int quote = ihl + Math.Min(V4QuotedPayload, total - ihl);
        int len = 20 + 8 + quote;
        if (len > output.Length) return -1;
        var dst = IpAddress.FromV4Bytes(offending.Slice(12));
        WriteV4Header(output, len, ipId, ttl, source, dst);
        var icmp = output.Slice(20, 8 + quote);
        icmp[0] = V4DestinationUnreachable;
        icmp[1] = V4CodeFragNeeded;
        icmp[2] = 0; icmp[3] = 0; icmp[4] = 0; icmp[5] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(icmp.Slice(6), nextHopMtu);
        offending.Slice(0, quote).CopyTo(icmp.Slice(8));
        BinaryPrimitives.WriteUInt16BigEndian(icmp.Slice(2), Checksum.Compute(icmp));
        return len;
    }

    /// <summary>
    /// Builds the echo reply to an IPv4 echo request (checked by <see cref="Classify"/>): source and destination
    /// swapped, the request's options dropped, identifier, sequence and data echoed. Returns the length or -1.
    /// </summary>
    public static int BuildEchoReplyV4(ReadOnlySpan<byte> request, in PacketInfo info, Span<byte> output, ushort ipId, byte ttl)
    {
        var msg = request.Slice(info.HeaderLength, info.TotalLength - info.HeaderLength);
        int len = 20 + msg.Length;
        if (len > output.Length) return -1;
        WriteV4Header(output, len, ipId, ttl, info.Flow.Destination, info.Flow.Source);
        output[1] = info.Tos;
        output[10] = 0; output[11] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(output.Slice(10), Checksum.Compute(output.Slice(0, 20)));
        var icmp = output.Slice(20, msg.Length);
        msg.CopyTo(icmp);
        icmp[0] = V4EchoReply;
        icmp[1] = 0;
        icmp[2] = 0; icmp[3] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(icmp.Slice(2), Checksum.Compute(icmp));
        return len;
    }

    /// <summary>
    /// Builds ICMPv6 Packet Too Big (type 2, RFC 4443 3.2) from <paramref name="source"/> to the offending packet's
    /// source announcing <paramref name="mtu"/> (raised to 1280 if lower), quoting as much of the offending packet as
    /// keeps the message within 1280 bytes. Returns the length or -1.
    /// </summary>
    public static int BuildPacketTooBigV6(ReadOnlySpan<byte> offending, Span<byte> output, in IpAddress source, int mtu, byte hopLimit)
    {
        int quote = Math.Min(offending.Length, Ipv6MinimumMtu - 48);
        int len = 48 + quote;
        if (len > output.Length) return -1;
        var dst = IpAddress.FromV6Bytes(offending.Slice(8));
        var icmp = output.Slice(40, 8 + quote);
        icmp[0] = V6PacketTooBig;
        icmp[1] = 0;
        icmp[2] = 0; icmp[3] = 0;
        BinaryPrimitives.WriteUInt32BigEndian(icmp.Slice(4), (uint)Math.Max(mtu, Ipv6MinimumMtu));
        offending.Slice(0, quote).CopyTo(icmp.Slice(8));
        WriteV6(output, source, dst, icmp, hopLimit, 0);
        return len;
    }

    /// <summary>Builds the ICMPv6 echo reply (type 129) to an echo request checked by <see cref="Classify"/>. Returns the length or -1.</summary>
    public static int BuildEchoReplyV6(ReadOnlySpan<byte> request, in PacketInfo info, Span<byte> output, byte hopLimit)
    {
        var msg = request.Slice(info.HeaderLength, info.TotalLength - info.HeaderLength);
        int len = 40 + msg.Length;
        if (len > output.Length) return -1;
        var icmp = output.Slice(40, msg.Length);
        msg.CopyTo(icmp);
        icmp[0] = V6EchoReply;
        icmp[1] = 0;
        icmp[2] = 0; icmp[3] = 0;
        WriteV6(output, info.Flow.Destination, info.Flow.Source, icmp, hopLimit, info.Tos);
        return len;
    }

    private static void WriteV4Header(Span<byte> h, int len, ushort id, byte ttl, in IpAddress src, in IpAddress dst)
    {
        h[0] = 0x45;
        h[1] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(h.Slice(2), (ushort)len);
        BinaryPrimitives.WriteUInt16BigEndian(h.Slice(4), id);
        h[6] = 0; h[7] = 0;
        h[8] = ttl;
        h[9] = IpProtocol.Icmp;
        h[10] = 0; h[11] = 0;
        BinaryPrimitives.WriteUInt32BigEndian(h.Slice(12), src.V4);
        BinaryPrimitives.WriteUInt32BigEndian(h.Slice(16), dst.V4);
        BinaryPrimitives.WriteUInt16BigEndian(h.Slice(10), Checksum.Compute(h.Slice(0, 20)));
    }

    /// <summary>Writes the IPv6 header in front of an ICMPv6 message already at output[40..] and its checksum.</summary>
    private static void WriteV6(Span<byte> output, in IpAddress src, in IpAddress dst, Span<byte> icmp, byte hopLimit, byte trafficClass)
    {
        BinaryPrimitives.WriteUInt32BigEndian(output, 0x6000_0000u | ((uint)trafficClass << 20));
        BinaryPrimitives.WriteUInt16BigEndian(output.Slice(4), (ushort)icmp.Length);
        output[6] = IpProtocol.Icmpv6;
        output[7] = hopLimit;
        src.WriteV6(output.Slice(8));
        dst.WriteV6(output.Slice(24));
        uint sum = Checksum.PseudoHeader(src, dst, IpProtocol.Icmpv6, icmp.Length);
        BinaryPrimitives.WriteUInt16BigEndian(icmp.Slice(2), Checksum.Finish(Checksum.Add(sum, icmp)));
    }
}
