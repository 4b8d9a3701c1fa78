using System.Buffers.Binary;
using TunLB.Core.Flows;
using TunLB.Core.Packets;

namespace TunLB.Core.Tests.DataPath;

/// <summary>Hand-built ICMP, IPv6 and fragment packets for the engine's wire tests.</summary>
internal static class WirePackets
{
    public static byte[] Ipv4(byte proto, string src, string dst, ReadOnlySpan<byte> payload, ushort id = 0x2222, bool df = false,
        bool mf = false, int fragOffset = 0, byte ttl = 64)
    {
        var p = new byte[20 + payload.Length];
        p[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(2), (ushort)p.Length);
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(4), id);
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(6), (ushort)((df ? 0x4000 : 0) | (mf ? 0x2000 : 0) | (fragOffset >> 3)));
        p[8] = ttl;
        p[9] = proto;
        IpAddress.Parse(src).WriteV4(p.AsSpan(12));
        IpAddress.Parse(dst).WriteV4(p.AsSpan(16));
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(10), Checksum.Compute(p.AsSpan(0, 20)));
        payload.CopyTo(p.AsSpan(20));
        return p;
    }

    public static byte[] Icmpv4(string src, string dst, byte type, byte code, ReadOnlySpan<byte> rest4, ReadOnlySpan<byte> body)
    {
        var m = new byte[8 + body.Length];
        m[0] = type; m[1] = code;
        rest4.CopyTo(m.AsSpan(4));
        body.CopyTo(m.AsSpan(8));
        BinaryPrimitives.WriteUInt16BigEndian(m.AsSpan(2), Checksum.Compute(m));
        return Ipv4(IpProtocol.Icmp, src, dst, m);
    }

    public static byte[] Ipv6(byte nextHeader, string src, string dst, ReadOnlySpan<byte> payload, byte hopLimit = 64)
    {
        var p = new byte[40 + payload.Length];
        p[0] = 0x60;
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(4), (ushort)payload.Length);
        p[6] = nextHeader;
        p[7] = hopLimit;
        IpAddress.Parse(src).WriteV6(p.AsSpan(8));
        IpAddress.Parse(dst).WriteV6(p.AsSpan(24));
        payload.CopyTo(p.AsSpan(40));
        return p;
    }

    public static byte[] Tcp(ushort sport, ushort dport, byte flags, int payload = 0)
    {
        var t = new byte[20 + payload];
        BinaryPrimitives.WriteUInt16BigEndian(t, sport);
        BinaryPrimitives.WriteUInt16BigEndian(t.AsSpan(2), dport);
        t[12] = 0x50; t[13] = flags;
        BinaryPrimitives.WriteUInt16BigEndian(t.AsSpan(14), 65535);
        for (int i = 20; i < t.Length; i++) t[i] = (byte)i;
        return t;
    }

    public static byte[] Udp(ushort sport, ushort dport, int payload)
    {
        var u = new byte[8 + payload];
        BinaryPrimitives.WriteUInt16BigEndian(u, sport);
        BinaryPrimitives.WriteUInt16BigEndian(u.AsSpan(2), dport);
        BinaryPrimitives.WriteUInt16BigEndian(u.AsSpan(4), (ushort)u.Length);
        for (int i = 8; i < u.Length; i++) u[i] = (byte)(i * 7);
        return u;
    }

    public static byte[] Icmpv6(string src, string dst, byte type, byte code, ReadOnlySpan<byte> rest4, ReadOnlySpan<byte> body)
    {
        var m = new byte[8 + body.Length];
        m[0] = type; m[1] = code;
        rest4.CopyTo(m.AsSpan(4));
        body.CopyTo(m.AsSpan(8));
        uint sum = Checksum.PseudoHeader(IpAddress.Parse(src), IpAddress.Parse(dst), IpProtocol.Icmpv6, m.Length);
        BinaryPrimitives.WriteUInt16BigEndian(m.AsSpan(2), Checksum.Finish(Checksum.Add(sum, m)));
        return Ipv6(IpProtocol.Icmpv6, src, dst, m);
    }

    /// <summary>Splits an IPv4 packet (20-byte header) into fragments carrying at most <paramref name="chunk"/> payload bytes.</summary>
    public static List<byte[]> FragmentV4(byte[] packet, int chunk)
    {
        var list = new List<byte[]>();
        var payload = packet.AsSpan(20);
        for (int off = 0; off < payload.Length; off += chunk)
        {
            int n = Math.Min(chunk, payload.Length - off);
            var f = new byte[20 + n];
            packet.AsSpan(0, 20).CopyTo(f);
            BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(2), (ushort)f.Length);
            BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(6), (ushort)((off >> 3) | (off + n < payload.Length ? 0x2000 : 0)));
            f[10] = 0; f[11] = 0;
            BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(10), Checksum.Compute(f.AsSpan(0, 20)));
            payload.Slice(off, n).CopyTo(f.AsSpan(20));
            list.Add(f);
        }
        return list;
    }

    /// <summary>Reassembles IPv4 fragments (20-byte headers) into the original payload; checks offsets are contiguous.</summary>
    public static byte[] ReassembleV4(IEnumerable<byte[]> fragments)
    {
        var ms = new MemoryStream();
        foreach (var f in fragments.OrderBy(f => BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(6)) & 0x1FFF))
        {
            Assert.Equal((BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(6)) & 0x1FFF) * 8, (int)ms.Length);
            ms.Write(f, 20, BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(2)) - 20);
        }
        return ms.ToArray();
    }
}
