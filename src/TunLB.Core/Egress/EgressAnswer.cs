using System.Buffers.Binary;
using TunLB.Core.Flows;
using TunLB.Core.Packets;

namespace TunLB.Core.Egress;

/// <summary>
/// One ICMP or ICMPv6 error that quotes an egress probe: who answered (<see cref="From"/>), what (type/code of its own
/// family), and which probe (session tag, hop, seq, the probe's source and target). A plain value, no references.
/// </summary>
public struct EgressAnswer
{
    /// <summary>Low 32 bits of the session id, from the quoted UDP source port and IP ID (IPv6: from the payload).</summary>
    public uint Tag;
    /// <summary>The full session id when the quote reached the probe's payload, else 0 (see <see cref="HasSession"/>).</summary>
    public ulong Session;
    public bool HasSession;
    public byte Ttl;
    public byte Seq;
    /// <summary>ICMP type for IPv4 answers, ICMPv6 type for IPv6 answers (see <see cref="IsV6"/>).</summary>
    public byte Type;
    public byte Code;
    public IpAddress From;
    /// <summary>The probe's source: the VIP for the VIP series, the real server's own address for the control series.</summary>
    public IpAddress ProbeSource;
    /// <summary>The probe's destination (the target).</summary>
    public IpAddress Target;
    /// <summary>When it was seen, on the recorder's clock (ms).</summary>
    public long TimeMs;

    public readonly bool IsV6 => !ProbeSource.IsV4;

    /// <summary>A destination-unreachable of either family (ICMP 3, ICMPv6 1).</summary>
    public readonly bool IsUnreachable => IsV6 ? Type == IcmpErrorV6.TypeDestinationUnreachable : Type == IcmpErrorV4.TypeDestinationUnreachable;

    /// <summary>Type and code in words, the same words for both families.</summary>
    public readonly string Describe() => IsV6 ? IcmpErrorV6.Describe(Type, Code) : IcmpErrorV4.Describe(Type, Code);

    /// <summary>True when this answer belongs to <paramref name="session"/> (full id when quoted, else the 32-bit tag).</summary>
    public readonly bool BelongsTo(EgressSessionId session) => HasSession ? Session == session.Value : Tag == session.Tag;

    /// <summary>
    /// Recognizes an ICMP error that quotes an egress probe: addressed to the quoted packet's source, quoted protocol
    /// UDP, destination port in the probe range,
    /// and, when the quote reaches the payload, the magic, version and hop/seq agreeing with the port and the full
    /// session agreeing with the tag. Allocation-free.
    /// </summary>
    public static bool TryMatch(ReadOnlySpan<byte> packet, in IcmpErrorV4 e, long nowMs, out EgressAnswer a)
    {
        a = default;
        if (e.QuotedProtocol != IpProtocol.Udp || e.QuotedTransportLength < 8) return false;
        if (e.To != e.QuotedSource) return false; // an answer goes back to the probe's source
        if (!MatchUdp(packet.Slice(e.QuotedTransportOffset, e.QuotedTransportLength), e.QuotedId, requirePayload: false, ref a)) return false;
        a.Type = e.Type;
        a.Code = e.Code;
        a.From = IpAddress.FromV4(e.From);
        a.ProbeSource = IpAddress.FromV4(e.QuotedSource);
        a.Target = IpAddress.FromV4(e.QuotedDestination);
        a.TimeMs = nowMs;
        return true;
    }

    /// <summary>
    /// The IPv6 counterpart of <see cref="TryMatch(ReadOnlySpan{byte}, in IcmpErrorV4, long, out EgressAnswer)"/>.
    /// RFC 4443 routers quote up to 1280 bytes, so the probe's payload (and the full session) must be in the quote;
    /// the flow label is not relied on (a network may rewrite it), the UDP source port must agree with the session.
    /// </summary>
    public static bool TryMatch(ReadOnlySpan<byte> packet, in IcmpErrorV6 e, long nowMs, out EgressAnswer a)
    {
        a = default;
        if (e.QuotedNextHeader != IpProtocol.Udp || e.QuotedTransportLength < 8) return false;
        if (e.To != e.QuotedSource) return false;
        if (!MatchUdp(packet.Slice(e.QuotedTransportOffset, e.QuotedTransportLength), 0, requirePayload: true, ref a)) return false;
        a.Type = e.Type;
        a.Code = e.Code;
        a.From = e.From;
        a.ProbeSource = e.QuotedSource;
        a.Target = e.QuotedDestination;
        a.TimeMs = nowMs;
        return true;
    }

    /// <summary>Hop, seq and session from the quoted UDP header and payload. IPv4: tag = source port | IP ID; IPv6: from the payload.</summary>
    private static bool MatchUdp(ReadOnlySpan<byte> udp, ushort ipId, bool requirePayload, ref EgressAnswer a)
    {
        ushort sport = BinaryPrimitives.ReadUInt16BigEndian(udp);
        ushort dport = BinaryPrimitives.ReadUInt16BigEndian(udp.Slice(2));
        if (!EgressProbe.TryDecodePort(dport, out int ttl, out int seq)) return false;
        bool hasPayload = udp.Length >= 8 + EgressProbe.PayloadLength;
        if (requirePayload && !hasPayload) return false;
        if (hasPayload)
        {
            var d = udp.Slice(8);
            if (BinaryPrimitives.ReadUInt32BigEndian(d) != EgressProbe.Magic || d[4] != EgressProbe.Version) return false;
            if (d[6] != ttl || d[7] != seq) return false;
            ulong s = BinaryPrimitives.ReadUInt64BigEndian(d.Slice(8));
            if (requirePayload) ipId = (ushort)s;
            if ((uint)s != (((uint)sport << 16) | ipId)) return false;
            a.Session = s;
            a.HasSession = true;
        }
        a.Tag = ((uint)sport << 16) | ipId;
        a.Ttl = (byte)ttl;
        a.Seq = (byte)seq;
        return true;
    }

    /// <summary>Parses and matches in one step, IPv4 or IPv6 by the version nibble (see the two TryParse/TryMatch pairs).</summary>
    public static bool TryParse(ReadOnlySpan<byte> ipPacket, long nowMs, out EgressAnswer a)
    {
        a = default;
        if (ipPacket.Length == 0) return false;
        if ((ipPacket[0] >> 4) == 6)
            return IcmpErrorV6.TryParse(ipPacket, out var e6) && TryMatch(ipPacket, e6, nowMs, out a);
        return IcmpErrorV4.TryParse(ipPacket, out var e) && TryMatch(ipPacket, e, nowMs, out a);
    }
}
