using System.Buffers.Binary;
using TunLB.Core.Egress;
using TunLB.Core.Flows;
using TunLB.Core.Packets;

namespace TunLB.Core.Tests.Egress;

/// <summary>Hand-built packets for the egress tests: probes and the ICMP errors routers send about them.</summary>
internal static class EgressPackets
{
    public static uint A(string s) => IpAddress.Parse(s).V4;
    public static IpAddress IP(string s) => IpAddress.Parse(s);

    public const string Vip = "203.0.113.10";
    public const string RealServer = "192.0.2.131";
    public const string Target = "198.51.100.10";
    public static readonly EgressSessionId Session = new(0x0123456789ABCDEFUL);

    public static byte[] Probe(string source, int ttl, int seq, EgressSessionId? session = null, EgressSeries series = EgressSeries.Vip)
    {
        var b = new byte[EgressProbe.PacketLength];
        EgressProbe.Write(b, A(source), A(Target), session ?? Session, ttl, seq, series);
        return b;
    }

    /// <summary>
    /// An ICMP error from <paramref name="from"/> about <paramref name="quoted"/> (sent back to its source), quoting
    /// <paramref name="quoteBytes"/> bytes of it (RFC 792 routers: header + 8; Linux: as much as fits in 576). The quoted
    /// TTL is set to <paramref name="quotedTtl"/> as a router would see it.
    /// </summary>
    public static byte[] IcmpError(string from, byte type, byte code, byte[] quoted, int quoteBytes = 28, byte quotedTtl = 1, string? to = null)
    {
        var q = quoted.AsSpan(0, Math.Min(quoteBytes, quoted.Length)).ToArray();
        q[8] = quotedTtl;
        q[10] = 0; q[11] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(q.AsSpan(10), Checksum.Compute(q.AsSpan(0, 20)));
        int total = 20 + 8 + q.Length;
        var p = new byte[total];
        p[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(2), (ushort)total);
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(4), 0x4242);
        p[8] = 64;
        p[9] = IpProtocol.Icmp;
        BinaryPrimitives.WriteUInt32BigEndian(p.AsSpan(12), A(from));
        BinaryPrimitives.WriteUInt32BigEndian(p.AsSpan(16), to is null ? BinaryPrimitives.ReadUInt32BigEndian(quoted.AsSpan(12)) : A(to));
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(10), Checksum.Compute(p.AsSpan(0, 20)));
        p[20] = type;
        p[21] = code;
        q.CopyTo(p.AsSpan(28));
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(22), Checksum.Compute(p.AsSpan(20)));
        return p;
    }

    public static EgressAnswer Answer(string probeSource, int ttl, int seq, string from, byte type = 11, byte code = 0) => new()
    {
        Tag = Session.Tag, Session = Session.Value, HasSession = true, Ttl = (byte)ttl, Seq = (byte)seq, Type = type, Code = code,
        From = IP(from), ProbeSource = IP(probeSource), Target = IP(Target), TimeMs = ttl * 100 + seq,
    };
}
