using System.Buffers.Binary;
using TunLB.Core.Packets;

namespace TunLB.Core.Egress;

/// <summary>
/// One ICMP error that quotes an egress probe: who answered (<see cref="From"/>), what (type/code), and which probe
/// (session tag, hop, seq, the probe's source and target). Addresses are IPv4 in host order. A plain value, no references.
/// </summary>
public struct EgressAnswer
{
    /// <summary>Low 32 bits of the session id, from the quoted UDP source port and IP ID.</summary>
    public uint Tag;
    /// <summary>The full session id when the quote reached the probe's payload, else 0 (see <see cref="HasSession"/>).</summary>
    public ulong Session;
    public bool HasSession;
    public byte Ttl;
    public byte Seq;
    public byte Type;
    public byte Code;
    public uint From;
    /// <summary>The probe's source: the VIP for the VIP series, the real server's own address for the control series.</summary>
    public uint ProbeSource;
    /// <summary>The probe's destination (the target).</summary>
    public uint Target;
    /// <summary>When it was seen, on the recorder's clock (ms).</summary>
    public long TimeMs;

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
        var udp = packet.Slice(e.QuotedTransportOffset, e.QuotedTransportLength);
        ushort sport = BinaryPrimitives.ReadUInt16BigEndian(udp);
        ushort dport = BinaryPrimitives.ReadUInt16BigEndian(udp.Slice(2));
        if (!EgressProbe.TryDecodePort(dport, out int ttl, out int seq)) return false;
        a.Tag = ((uint)sport << 16) | e.QuotedId;
        if (udp.Length >= 8 + EgressProbe.PayloadLength)
        {
            var d = udp.Slice(8);
            if (BinaryPrimitives.ReadUInt32BigEndian(d) != EgressProbe.Magic || d[4] != EgressProbe.Version) return false;
            if (d[6] != ttl || d[7] != seq) return false;
            ulong s = BinaryPrimitives.ReadUInt64BigEndian(d.Slice(8));
            if ((uint)s != a.Tag) return false;
            a.Session = s;
            a.HasSession = true;
        }
        a.Ttl = (byte)ttl;
        a.Seq = (byte)seq;
        a.Type = e.Type;
        a.Code = e.Code;
        a.From = e.From;
        a.ProbeSource = e.QuotedSource;
        a.Target = e.QuotedDestination;
        a.TimeMs = nowMs;
        return true;
    }

    /// <summary>Parses and matches in one step (see <see cref="IcmpErrorV4.TryParse"/> and <see cref="TryMatch"/>).</summary>
    public static bool TryParse(ReadOnlySpan<byte> ipv4Packet, long nowMs, out EgressAnswer a)
    {
        if (!IcmpErrorV4.TryParse(ipv4Packet, out var e)) { a = default; return false; }
        return TryMatch(ipv4Packet, e, nowMs, out a);
    }
}
