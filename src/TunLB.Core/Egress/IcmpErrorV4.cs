using System.Buffers.Binary;
using TunLB.Core.Packets;

namespace TunLB.Core.Egress;

/// <summary>
/// An ICMPv4 error message (RFC 792) as parsed by <see cref="IcmpErrorV4.TryParse"/>: the outer addresses, the
/// ICMP type and code, and the quoted datagram's IPv4 header and first 8 bytes (plus more when the router quoted more).
/// Addresses are IPv4 in host order.
/// </summary>
public struct IcmpErrorV4
{
    public const byte TypeDestinationUnreachable = 3;
    public const byte TypeTimeExceeded = 11;
    public const byte CodePortUnreachable = 3;

    /// <summary>Outer source: the router or host that sent the error.</summary>
    public uint From;
    /// <summary>Outer destination: where the error is going (the quoted packet's source).</summary>
    public uint To;
    public byte Type;
    public byte Code;

    public uint QuotedSource;
    public uint QuotedDestination;
    public ushort QuotedId;
    public byte QuotedTtl;
    public byte QuotedProtocol;
    /// <summary>Offset of the quoted transport header in the packet passed to TryParse.</summary>
    public int QuotedTransportOffset;
    /// <summary>Bytes of the quoted transport header and data present (at least 8).</summary>
    public int QuotedTransportLength;

    /// <summary>
    /// Parses an IPv4 packet holding an ICMP destination-unreachable (3) or time-exceeded (11) message whose quote
    /// carries an IPv4 header and at least 8 bytes after it. Checks the outer header (version, lengths, header
    /// checksum, no fragment), the ICMP checksum and the quoted header's version and length. Allocation-free.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> p, out IcmpErrorV4 e)
    {
        e = default;
        if (p.Length < 20 || (p[0] >> 4) != 4) return false;
        int ihl = (p[0] & 0x0F) * 4;
        if (ihl < 20 || p.Length < ihl) return false;
        int total = BinaryPrimitives.ReadUInt16BigEndian(p.Slice(2));
        if (total < ihl || total > p.Length) return false;
        if (p[9] != IpProtocol.Icmp) return false;
        if ((BinaryPrimitives.ReadUInt16BigEndian(p.Slice(6)) & 0x3FFF) != 0) return false; // MF or offset: a fragment
        if (!Checksum.IsValid(p.Slice(0, ihl))) return false;

        var icmp = p.Slice(ihl, total - ihl);
        // 8-byte ICMP header + quoted IPv4 header (≥ 20) + 8 bytes of the quoted datagram.
        if (icmp.Length < 8 + 20 + 8) return false;
        byte type = icmp[0];
        if (type != TypeDestinationUnreachable && type != TypeTimeExceeded) return false;
        if (!Checksum.IsValid(icmp)) return false;

        var q = icmp.Slice(8);
        if ((q[0] >> 4) != 4) return false;
        int qihl = (q[0] & 0x0F) * 4;
        if (qihl < 20 || q.Length < qihl + 8) return false;

        e.From = BinaryPrimitives.ReadUInt32BigEndian(p.Slice(12));
        e.To = BinaryPrimitives.ReadUInt32BigEndian(p.Slice(16));
        e.Type = type;
        e.Code = icmp[1];
        e.QuotedId = BinaryPrimitives.ReadUInt16BigEndian(q.Slice(4));
        e.QuotedTtl = q[8];
        e.QuotedProtocol = q[9];
        e.QuotedSource = BinaryPrimitives.ReadUInt32BigEndian(q.Slice(12));
        e.QuotedDestination = BinaryPrimitives.ReadUInt32BigEndian(q.Slice(16));
        e.QuotedTransportOffset = ihl + 8 + qihl;
        e.QuotedTransportLength = q.Length - qihl;
        return true;
    }

    /// <summary>"time-exceeded", "port-unreachable", "host-unreachable", ... for output.</summary>
    public static string Describe(byte type, byte code) => type switch
    {
        TypeTimeExceeded => code == 0 ? "time-exceeded" : $"time-exceeded/{code}",
        TypeDestinationUnreachable => code switch
        {
            0 => "net-unreachable",
            1 => "host-unreachable",
            2 => "protocol-unreachable",
            3 => "port-unreachable",
            4 => "fragmentation-needed",
            9 or 10 or 13 => "admin-prohibited",
            _ => $"unreachable/{code}",
        },
        _ => $"icmp {type}/{code}",
    };
}
