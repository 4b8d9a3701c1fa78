using System.Buffers.Binary;
using TunLB.Core.DataPath;
using TunLB.Core.Flows;
using TunLB.Core.Model;
using TunLB.Core.Packets;
using TunLB.Core.Scheduling;

namespace TunLB.Benchmarks;

/// <summary>Builds valid client packets and engines for the data-path benchmarks.</summary>
internal static class BenchPackets
{
    public static readonly IpAddress Vip = IpAddress.Parse("203.0.113.10");
    public static readonly IpAddress Director = IpAddress.Parse("203.0.113.2");
    public const int TcpLength = 40; // 20-byte IP + 20-byte TCP header, no payload

    /// <summary>Writes a 40-byte IPv4/TCP packet to the VIP port 80 with a valid header checksum.</summary>
    public static void WriteTcp(Span<byte> p, uint sourceHostOrder, ushort sourcePort, byte flags)
    {
        p.Slice(0, TcpLength).Clear();
        p[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(p.Slice(2), TcpLength);
        BinaryPrimitives.WriteUInt16BigEndian(p.Slice(4), 0x1a2b);
        p[6] = 0x40; p[8] = 63; p[9] = IpProtocol.Tcp;
        BinaryPrimitives.WriteUInt32BigEndian(p.Slice(12), sourceHostOrder);
        Vip.WriteV4(p.Slice(16));
        BinaryPrimitives.WriteUInt16BigEndian(p.Slice(10), Checksum.Compute(p.Slice(0, 20)));
        BinaryPrimitives.WriteUInt16BigEndian(p.Slice(20), sourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(p.Slice(22), 80);
        p[32] = 0x50; p[33] = flags;
    }

    /// <summary>
    /// The i-th distinct client flow: source addresses from 198.18.0.0/15 (131,072 of them) times source
    /// ports 1024 + (i / 131072), so up to 131072 x 64512 distinct flows.
    /// </summary>
    public static (uint Source, ushort Port) Flow(int i) =>
        (0xC6120000u + (uint)(i & 0x1FFFF), (ushort)(1024 + (i >> 17)));

    /// <summary>A packed array of <paramref name="count"/> packets, one per distinct flow, 40 bytes each.</summary>
    public static byte[] Packets(int count, byte flags)
    {
        var buf = new byte[count * TcpLength];
        for (int i = 0; i < count; i++)
        {
            var (s, port) = Flow(i);
            WriteTcp(buf.AsSpan(i * TcpLength, TcpLength), s, port, flags);
        }
        return buf;
    }

    /// <summary>A director engine with one TCP service on VIP:80 and <paramref name="backends"/> real servers in 192.0.2.0/24.</summary>
    public static (DirectorEngine Engine, VirtualService Service) Engine(string scheduler, int backends, int capacity)
    {
        var engine = new DirectorEngine(new DirectorEngineOptions { ConnectionCapacity = capacity, HashSeed = 0x5eed, InnerTtlIncrement = 1 });
        var dests = new Destination[backends];
        for (int i = 0; i < backends; i++)
            dests[i] = new Destination(i + 1, IpAddress.FromV4(0xC0000200u + 11 + (uint)i), 80, 1 + (i % 3)) { OuterSource = Director };
        var svc = new VirtualService(new ServiceKey(Vip, 80, IpProtocol.Tcp), SchedulerFactory.Create(scheduler), dests);
        engine.SetServices([svc]);
        return (engine, svc);
    }
}
