using System.Buffers.Binary;
using TunLB.Core.Flows;
using TunLB.Core.Packets;

namespace TunLB.Linux.Tests;

/// <summary>Builds test IPv4/UDP packets with correct checksums.</summary>
internal static class Packets
{
    public static byte[] Udp(uint source, uint destination, ushort sourcePort, ushort destinationPort, ReadOnlySpan<byte> payload,
        ushort identification = 0x4242, byte ttl = 64)
    {
        int len = 20 + 8 + payload.Length;
        var p = new byte[len];
        p[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(2), (ushort)len);
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(4), identification);
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(6), 0x4000); // DF
        p[8] = ttl;
        p[9] = IpProtocol.Udp;
        BinaryPrimitives.WriteUInt32BigEndian(p.AsSpan(12), source);
        BinaryPrimitives.WriteUInt32BigEndian(p.AsSpan(16), destination);
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(10), Checksum.Compute(p.AsSpan(0, 20)));

        var udp = p.AsSpan(20);
        BinaryPrimitives.WriteUInt16BigEndian(udp, sourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(udp.Slice(2), destinationPort);
        BinaryPrimitives.WriteUInt16BigEndian(udp.Slice(4), (ushort)(8 + payload.Length));
        payload.CopyTo(udp.Slice(8));

        Span<byte> pseudo = stackalloc byte[12];
        p.AsSpan(12, 8).CopyTo(pseudo);
        pseudo[9] = IpProtocol.Udp;
        BinaryPrimitives.WriteUInt16BigEndian(pseudo.Slice(10), (ushort)(8 + payload.Length));
        ushort sum = Checksum.Finish(Checksum.Add(Checksum.Add(0, pseudo), udp));
        BinaryPrimitives.WriteUInt16BigEndian(udp.Slice(6), sum == 0 ? (ushort)0xFFFF : sum);
        return p;
    }

    /// <summary>An IPv6/UDP packet (hop limit 64) with its mandatory UDP checksum.</summary>
    public static byte[] Udp6(string source, string destination, ushort sourcePort, ushort destinationPort, ReadOnlySpan<byte> payload)
    {
        var udp = new byte[8 + payload.Length];
        BinaryPrimitives.WriteUInt16BigEndian(udp, sourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(udp.AsSpan(2), destinationPort);
        BinaryPrimitives.WriteUInt16BigEndian(udp.AsSpan(4), (ushort)udp.Length);
        payload.CopyTo(udp.AsSpan(8));
        var src = IpAddress.Parse(source); var dst = IpAddress.Parse(destination);
        ushort sum = Checksum.Finish(Checksum.Add(Checksum.PseudoHeader(src, dst, IpProtocol.Udp, udp.Length), udp));
        BinaryPrimitives.WriteUInt16BigEndian(udp.AsSpan(6), sum == 0 ? (ushort)0xFFFF : sum);
        return Ip6(source, destination, IpProtocol.Udp, udp);
    }

    /// <summary>An IPv6 header (hop limit 64, no extension header) in front of <paramref name="payload"/>.</summary>
    public static byte[] Ip6(string source, string destination, byte nextHeader, ReadOnlySpan<byte> payload)
    {
        var p = new byte[40 + payload.Length];
        p[0] = 0x60;
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(4), (ushort)payload.Length);
        p[6] = nextHeader;
        p[7] = 64;
        IpAddress.Parse(source).WriteV6(p.AsSpan(8));
        IpAddress.Parse(destination).WriteV6(p.AsSpan(24));
        payload.CopyTo(p.AsSpan(40));
        return p;
    }

    public static uint V4(string dotted) => BinaryPrimitives.ReadUInt32BigEndian(System.Net.IPAddress.Parse(dotted).GetAddressBytes());
}
