using System.Buffers.Binary;
using TunLB.Core.Flows;
using TunLB.Core.Packets;

namespace TunLB.Director.Tests;

/// <summary>Hand-built IPv4 packets for engine tests.</summary>
internal static class TestPackets
{
    public static byte[] Tcp(string src, ushort srcPort, string dst, ushort dstPort, byte flags,
        int payload = 0, byte ttl = 64, byte tos = 0, bool dontFragment = true, ushort id = 0x1234) =>
        Build(IpProtocol.Tcp, src, srcPort, dst, dstPort, flags, payload, ttl, tos, dontFragment, id);

    public static byte[] Udp(string src, ushort srcPort, string dst, ushort dstPort,
        int payload = 8, byte ttl = 64, byte tos = 0, bool dontFragment = false, ushort id = 0x4321) =>
        Build(IpProtocol.Udp, src, srcPort, dst, dstPort, 0, payload, ttl, tos, dontFragment, id);

    private static byte[] Build(byte proto, string src, ushort srcPort, string dst, ushort dstPort, byte flags,
        int payload, byte ttl, byte tos, bool dontFragment, ushort id)
    {
        int l4 = proto == IpProtocol.Tcp ? 20 : 8;
        int total = 20 + l4 + payload;
        var p = new byte[total];
        p[0] = 0x45;
        p[1] = tos;
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(2), (ushort)total);
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(4), id);
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(6), dontFragment ? (ushort)0x4000 : (ushort)0);
        p[8] = ttl;
        p[9] = proto;
        IpAddress.Parse(src).WriteV4(p.AsSpan(12));
        IpAddress.Parse(dst).WriteV4(p.AsSpan(16));
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(10), Checksum.Compute(p.AsSpan(0, 20)));

        var t = p.AsSpan(20);
        BinaryPrimitives.WriteUInt16BigEndian(t, srcPort);
        BinaryPrimitives.WriteUInt16BigEndian(t.Slice(2), dstPort);
        if (proto == IpProtocol.Tcp)
        {
            BinaryPrimitives.WriteUInt32BigEndian(t.Slice(4), 1000);   // seq
            t[12] = 5 << 4;                                             // data offset 5 words
            t[13] = flags;
            BinaryPrimitives.WriteUInt16BigEndian(t.Slice(14), 65535); // window
        }
        else
        {
            BinaryPrimitives.WriteUInt16BigEndian(t.Slice(4), (ushort)(8 + payload));
        }
        for (int i = 20 + l4; i < total; i++) p[i] = (byte)i;
        return p;
    }

    /// <summary>Rewrites the source port of a TCP/UDP packet in place (no checksum involved at this layer).</summary>
    public static void SetSourcePort(byte[] packet, ushort port) => BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(20), port);
}
