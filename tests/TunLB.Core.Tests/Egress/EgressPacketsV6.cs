using System.Buffers.Binary;
using TunLB.Core.Egress;
using TunLB.Core.Flows;
using TunLB.Core.Packets;

namespace TunLB.Core.Tests.Egress;

/// <summary>Hand-built IPv6 probes and the ICMPv6 errors routers send about them (RFC 4443 layout, checksums computed here).</summary>
internal static class EgressPacketsV6
{
    public const string Vip = "2001:db8:10::10";
    public const string RealServer = "2001:db8:1::131";
    public const string Target = "2001:db8:100::10";
    public static IpAddress IP(string s) => IpAddress.Parse(s);

    public static byte[] Probe(string source, int ttl, int seq, EgressSessionId? session = null, EgressSeries series = EgressSeries.Vip)
    {
        var b = new byte[EgressProbe.PacketLengthV6];
        Assert.Equal(EgressProbe.PacketLengthV6, EgressProbe.Write(b, IP(source), IP(Target), session ?? EgressPackets.Session, ttl, seq, series));
        return b;
    }

    /// <summary>An ICMPv6 error from <paramref name="from"/> about <paramref name="quoted"/>, sent to its source, quoting <paramref name="quoteBytes"/> bytes.</summary>
    public static byte[] IcmpError(string from, byte type, byte code, byte[] quoted, int quoteBytes = 1232, byte quotedHopLimit = 1, string? to = null)
    {
        var q = quoted.AsSpan(0, Math.Min(quoteBytes, quoted.Length)).ToArray();
        q[7] = quotedHopLimit;
        int icmpLen = 8 + q.Length;
        var p = new byte[40 + icmpLen];
        p[0] = 0x60;
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(4), (ushort)icmpLen);
        p[6] = 58;
        p[7] = 64;
        var src = IP(from);
        var dst = to is null ? IpAddress.FromV6Bytes(quoted.AsSpan(8)) : IP(to);
        src.WriteV6(p.AsSpan(8));
        dst.WriteV6(p.AsSpan(24));
        p[40] = type;
        p[41] = code;
        q.CopyTo(p.AsSpan(48));
        ushort c = Checksum.Finish(Checksum.Add(Checksum.PseudoHeader(src, dst, 58, icmpLen), p.AsSpan(40)));
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(42), c);
        return p;
    }
}
