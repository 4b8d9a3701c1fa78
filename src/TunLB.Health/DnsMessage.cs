using System.Buffers.Binary;
using System.Text;

namespace TunLB.Health;

/// <summary>The few bits of DNS (RFC 1035) the dns check needs: build a query, read a response's header.</summary>
public static class DnsMessage
{
    public static readonly IReadOnlyDictionary<string, ushort> TypeCodes = new Dictionary<string, ushort>(StringComparer.OrdinalIgnoreCase)
    {
        ["A"] = 1, ["NS"] = 2, ["CNAME"] = 5, ["SOA"] = 6, ["PTR"] = 12, ["MX"] = 15, ["TXT"] = 16, ["AAAA"] = 28, ["SRV"] = 33, ["ANY"] = 255,
    };

    public static bool TryTypeCode(string type, out ushort code) =>
        TypeCodes.TryGetValue(type, out code) || ushort.TryParse(type, out code);

    /// <summary>A standard query with RD set, one question of class IN.</summary>
    public static byte[] Query(ushort id, string name, ushort type)
    {
        var ms = new MemoryStream();
        Span<byte> h = stackalloc byte[12];
        BinaryPrimitives.WriteUInt16BigEndian(h, id);
        h[2] = 0x01; // RD
        BinaryPrimitives.WriteUInt16BigEndian(h[4..], 1); // QDCOUNT
        ms.Write(h);
        WriteName(ms, name);
        Span<byte> q = stackalloc byte[4];
        BinaryPrimitives.WriteUInt16BigEndian(q, type);
        BinaryPrimitives.WriteUInt16BigEndian(q[2..], 1); // IN
        ms.Write(q);
        return ms.ToArray();
    }

    public static void WriteName(Stream s, string name)
    {
        foreach (var label in name.Trim('.').Split('.', StringSplitOptions.RemoveEmptyEntries))
        {
            var b = Encoding.ASCII.GetBytes(label);
            if (b.Length > 63) throw new ArgumentException($"DNS label \"{label}\" is longer than 63 bytes");
            s.WriteByte((byte)b.Length);
            s.Write(b);
        }
        s.WriteByte(0);
    }

    /// <summary>Header of a response: id, QR, RCODE, answer count.</summary>
    public readonly record struct Header(ushort Id, bool IsResponse, int Rcode, int Questions, int Answers);

    public static bool TryReadHeader(ReadOnlySpan<byte> msg, out Header h)
    {
        h = default;
        if (msg.Length < 12) return false;
        h = new Header(BinaryPrimitives.ReadUInt16BigEndian(msg), (msg[2] & 0x80) != 0, msg[3] & 0x0F,
            BinaryPrimitives.ReadUInt16BigEndian(msg[4..]), BinaryPrimitives.ReadUInt16BigEndian(msg[6..]));
        return true;
    }

    public static string RcodeName(int rcode) => rcode switch
    {
        0 => "NOERROR", 1 => "FORMERR", 2 => "SERVFAIL", 3 => "NXDOMAIN", 4 => "NOTIMP", 5 => "REFUSED", _ => $"RCODE{rcode}",
    };
}
