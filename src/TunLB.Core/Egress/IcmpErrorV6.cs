using System.Buffers.Binary;
using TunLB.Core.Flows;
using TunLB.Core.Packets;

namespace TunLB.Core.Egress;

/// <summary>
/// An ICMPv6 error message (RFC 4443) as parsed by <see cref="TryParse"/>: the outer addresses, type and code, and the
/// quoted packet's IPv6 header and the bytes after it (RFC 4443 quotes as much as fits in 1280 bytes, so the probe's
/// payload is normally there). Only a quote whose IPv6 header is followed directly by UDP is understood: probes carry
/// no extension headers.
/// </summary>
public struct IcmpErrorV6
{
    public const byte NextHeaderIcmpV6 = 58;
    public const byte TypeDestinationUnreachable = 1;
    public const byte TypeTimeExceeded = 3;
    public const byte CodePortUnreachable = 4;
    /// <summary>RFC 4443 code 5: "source address failed ingress/egress policy", a router saying it filters sources.</summary>
    public const byte CodeSourcePolicy = 5;

    public IpAddress From;
    public IpAddress To;
    public byte Type;
    public byte Code;
    public IpAddress QuotedSource;
    public IpAddress QuotedDestination;
    public uint QuotedFlowLabel;
    public byte QuotedHopLimit;
    public byte QuotedNextHeader;
    /// <summary>Offset of the quoted transport header in the span passed to the parser.</summary>
    public int QuotedTransportOffset;
    public int QuotedTransportLength;

    /// <summary>
    /// Parses a whole IPv6 packet (AF_PACKET, TUN) holding an ICMPv6 destination-unreachable (1) or time-exceeded (3)
    /// directly after the fixed header. Checks version, payload length and the ICMPv6 checksum over the pseudo-header.
    /// Allocation-free.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> p, out IcmpErrorV6 e)
    {
        e = default;
        if (p.Length < 40 || (p[0] >> 4) != 6 || p[6] != NextHeaderIcmpV6) return false;
        int payload = BinaryPrimitives.ReadUInt16BigEndian(p.Slice(4));
        if (40 + payload > p.Length) return false;
        var icmp = p.Slice(40, payload);
        var from = IpAddress.FromV6Bytes(p.Slice(8));
        var to = IpAddress.FromV6Bytes(p.Slice(24));
        if (Checksum.Finish(Checksum.Add(Checksum.PseudoHeader(from, to, NextHeaderIcmpV6, icmp.Length), icmp)) != 0) return false;
        return TryParseMessage(icmp, from, to, 40, out e);
    }

    /// <summary>
    /// Parses an ICMPv6 message whose checksum the caller has already checked (a raw ICMPv6 socket, where the kernel
    /// verifies it and strips the IPv6 header). <paramref name="offset"/> is where the message starts in the caller's
    /// buffer, so <see cref="QuotedTransportOffset"/> indexes that buffer.
    /// </summary>
    public static bool TryParseMessage(ReadOnlySpan<byte> icmp, IpAddress from, IpAddress to, int offset, out IcmpErrorV6 e)
    {
        e = default;
        if (icmp.Length < 8 + 40 + 8) return false;
        byte type = icmp[0];
        if (type != TypeDestinationUnreachable && type != TypeTimeExceeded) return false;
        var q = icmp.Slice(8);
        if ((q[0] >> 4) != 6) return false;
        e.From = from;
        e.To = to;
        e.Type = type;
        e.Code = icmp[1];
        e.QuotedFlowLabel = BinaryPrimitives.ReadUInt32BigEndian(q) & 0xFFFFF;
        e.QuotedNextHeader = q[6];
        e.QuotedHopLimit = q[7];
        e.QuotedSource = IpAddress.FromV6Bytes(q.Slice(8));
        e.QuotedDestination = IpAddress.FromV6Bytes(q.Slice(24));
        e.QuotedTransportOffset = offset + 8 + 40;
        e.QuotedTransportLength = q.Length - 40;
        return true;
    }

    /// <summary>"time-exceeded", "port-unreachable", "admin-prohibited", ... for output (the words of <see cref="IcmpErrorV4.Describe"/>).</summary>
    public static string Describe(byte type, byte code) => type switch
    {
        TypeTimeExceeded => code == 0 ? "time-exceeded" : $"time-exceeded/{code}",
        TypeDestinationUnreachable => code switch
        {
            0 => "no-route",
            1 => "admin-prohibited",
            2 => "beyond-scope",
            3 => "address-unreachable",
            4 => "port-unreachable",
            5 => "source-policy-failed",
            6 => "reject-route",
            _ => $"unreachable/{code}",
        },
        _ => $"icmp6 {type}/{code}",
    };
}
