using System.Buffers.Binary;
using TunLB.Core.Flows;
using TunLB.Core.Packets;

namespace TunLB.Core.Egress;

/// <summary>Which series a probe belongs to: sourced from the VIP, or from the real server's own address.</summary>
public enum EgressSeries : byte { Vip = 1, Control = 2 }

/// <summary>
/// Traceroute-style UDP probes for the egress check (IPv4).
/// <code>
/// IPv4  20 bytes: ID = session.IpId, TTL = hop, DF clear, protocol 17
/// UDP    8 bytes: source port = session.SourcePort, destination port = 33434 + ((hop - 1) * 4 + seq)
/// data  16 bytes: "TLBe" | version 1 | series | hop | seq | session id (8 bytes, big-endian)
/// </code>
/// The destination port alone gives hop and seq (so does the payload when a router quotes it), which is what
/// lets a director that never saw the plan attribute an answer. Ports 33434..33689, the traceroute range.
/// IPv6 (<see cref="WriteV6"/>): a 40-byte header (hop limit = hop, flow label = session.IpId, next header 17) and the
/// same UDP datagram; ICMPv6 errors quote it whole, so the payload identifies the session.
/// </summary>
public static class EgressProbe
{
    public const ushort BasePort = 33434;
    /// <summary>Highest TTL a probe may carry (the hop encoding has room for 64 hops × 4 probes).</summary>
    public const int MaxTtl = 64;
    /// <summary>Probes per hop the encoding allows; the CLI caps at <see cref="MaxProbesPerHop"/>.</summary>
    public const int SeqPerHop = 4;
    public const int MaxProbesPerHop = 3;
    public const int PayloadLength = 16;
    public const int UdpLength = 8 + PayloadLength;
    public const int PacketLength = 20 + UdpLength;
    public const int PacketLengthV6 = 40 + UdpLength;
    public const byte Version = 1;

    /// <summary>"TLBe" in ASCII, big-endian.</summary>
    public const uint Magic = 0x544C4265;

    public static ushort Port(int ttl, int seq) => (ushort)(BasePort + ((ttl - 1) * SeqPerHop + seq));

    /// <summary>Hop and seq from a probe's destination port; false outside 33434..33689.</summary>
    public static bool TryDecodePort(ushort port, out int ttl, out int seq)
    {
        int i = port - BasePort;
        if ((uint)i >= MaxTtl * SeqPerHop) { ttl = 0; seq = 0; return false; }
        ttl = i / SeqPerHop + 1;
        seq = i % SeqPerHop;
        return true;
    }

    /// <summary>Writes a probe of the family of <paramref name="source"/> (both addresses of one family); returns its length.</summary>
    public static int Write(Span<byte> dst, IpAddress source, IpAddress target, EgressSessionId session, int ttl, int seq, EgressSeries series) =>
        source.IsV4 && target.IsV4
            ? Write(dst, source.V4, target.V4, session, ttl, seq, series)
            : WriteV6(dst, source, target, session, ttl, seq, series);

    /// <summary>Writes one complete IPv6 probe (header, UDP, payload, UDP checksum) and returns <see cref="PacketLengthV6"/>.</summary>
    public static int WriteV6(Span<byte> dst, IpAddress source, IpAddress target, EgressSessionId session, int ttl, int seq, EgressSeries series)
    {
        if (source.IsV4 || target.IsV4) throw new ArgumentException("IPv6 addresses expected");
        if (ttl < 1 || ttl > MaxTtl) throw new ArgumentOutOfRangeException(nameof(ttl));
        if (seq < 0 || seq >= SeqPerHop) throw new ArgumentOutOfRangeException(nameof(seq));
        if (dst.Length < PacketLengthV6) throw new ArgumentException("buffer too small", nameof(dst));
        var p = dst.Slice(0, PacketLengthV6);
        p.Clear();
        BinaryPrimitives.WriteUInt32BigEndian(p, 0x6000_0000u | session.IpId);
        BinaryPrimitives.WriteUInt16BigEndian(p.Slice(4), UdpLength);
        p[6] = IpProtocol.Udp;
        p[7] = (byte)ttl;
        source.WriteV6(p.Slice(8));
        target.WriteV6(p.Slice(24));
        var u = p.Slice(40);
        WriteUdp(u, session, ttl, seq, series);
        ushort c = Checksum.Finish(Checksum.Add(Checksum.PseudoHeader(source, target, IpProtocol.Udp, UdpLength), u.Slice(0, UdpLength)));
        BinaryPrimitives.WriteUInt16BigEndian(u.Slice(6), c == 0 ? (ushort)0xFFFF : c);
        return PacketLengthV6;
    }

    private static void WriteUdp(Span<byte> u, EgressSessionId session, int ttl, int seq, EgressSeries series)
    {
        BinaryPrimitives.WriteUInt16BigEndian(u, session.SourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(u.Slice(2), Port(ttl, seq));
        BinaryPrimitives.WriteUInt16BigEndian(u.Slice(4), UdpLength);
        var d = u.Slice(8);
        BinaryPrimitives.WriteUInt32BigEndian(d, Magic);
        d[4] = Version;
        d[5] = (byte)series;
        d[6] = (byte)ttl;
        d[7] = (byte)seq;
        BinaryPrimitives.WriteUInt64BigEndian(d.Slice(8), session.Value);
    }

    /// <summary>
    /// Writes one complete probe (IPv4 + UDP + payload, checksums included) into <paramref name="dst"/> and returns
    /// its length (<see cref="PacketLength"/>). Addresses are IPv4 in host order. Allocation-free.
    /// </summary>
    public static int Write(Span<byte> dst, uint source, uint target, EgressSessionId session, int ttl, int seq, EgressSeries series)
    {
        if (ttl < 1 || ttl > MaxTtl) throw new ArgumentOutOfRangeException(nameof(ttl));
        if (seq < 0 || seq >= SeqPerHop) throw new ArgumentOutOfRangeException(nameof(seq));
        if (dst.Length < PacketLength) throw new ArgumentException("buffer too small", nameof(dst));
        var p = dst.Slice(0, PacketLength);
        p.Clear();
        p[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(p.Slice(2), PacketLength);
        BinaryPrimitives.WriteUInt16BigEndian(p.Slice(4), session.IpId);
        p[8] = (byte)ttl;
        p[9] = IpProtocol.Udp;
        BinaryPrimitives.WriteUInt32BigEndian(p.Slice(12), source);
        BinaryPrimitives.WriteUInt32BigEndian(p.Slice(16), target);
        BinaryPrimitives.WriteUInt16BigEndian(p.Slice(10), Checksum.Compute(p.Slice(0, 20)));

        var u = p.Slice(20);
        WriteUdp(u, session, ttl, seq, series);

        // UDP checksum over the pseudo-header (src, dst, 0, 17, UDP length) and the datagram.
        uint sum = (source >> 16) + (source & 0xFFFF) + (target >> 16) + (target & 0xFFFF) + IpProtocol.Udp + (uint)UdpLength;
        ushort c = Checksum.Finish(Checksum.Add(sum, u.Slice(0, UdpLength)));
        BinaryPrimitives.WriteUInt16BigEndian(u.Slice(6), c == 0 ? (ushort)0xFFFF : c);
        return PacketLength;
    }
}
