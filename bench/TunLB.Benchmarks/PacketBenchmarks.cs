using System.Buffers.Binary;
using BenchmarkDotNet.Attributes;
using TunLB.Core.DataPath;
using TunLB.Core.Flows;
using TunLB.Core.Packets;

namespace TunLB.Benchmarks;

/// <summary>Hot-path packet operations; every one of them should allocate nothing.</summary>
[MemoryDiagnoser]
public class PacketBenchmarks
{
    private static readonly IpAddress Client = IpAddress.Parse("198.51.100.10");
    private static readonly IpAddress Vip = IpAddress.Parse("203.0.113.10");
    private static readonly IpAddress Director = IpAddress.Parse("203.0.113.2");
    private static readonly IpAddress Real = IpAddress.Parse("192.0.2.11");

    private byte[] _tcp = null!;
    private byte[] _header = null!;
    private byte[] _output = null!;
    private byte[] _encapsulated = null!;
    private DecapFilter _filter = null!;

    [GlobalSetup]
    public void Setup()
    {
        // TCP SYN, 60 bytes: 20-byte IP header + 40-byte TCP header with options.
        _tcp = new byte[60];
        _tcp[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(_tcp.AsSpan(2), 60);
        BinaryPrimitives.WriteUInt16BigEndian(_tcp.AsSpan(4), 0x1a2b);
        _tcp[6] = 0x40; _tcp[8] = 63; _tcp[9] = IpProtocol.Tcp;
        Client.WriteV4(_tcp.AsSpan(12));
        Vip.WriteV4(_tcp.AsSpan(16));
        BinaryPrimitives.WriteUInt16BigEndian(_tcp.AsSpan(10), Checksum.Compute(_tcp.AsSpan(0, 20)));
        BinaryPrimitives.WriteUInt16BigEndian(_tcp.AsSpan(20), 40000);
        BinaryPrimitives.WriteUInt16BigEndian(_tcp.AsSpan(22), 80);
        _tcp[32] = 0xA0; _tcp[33] = TcpFlags.Syn;

        _header = _tcp.AsSpan(0, 20).ToArray();
        _output = new byte[2048];
        _encapsulated = new byte[_tcp.Length + Tunnel.Ipv4HeaderLength];
        Tunnel.Encapsulate(_tcp, _encapsulated, Director, Real, EncapKind.Ipip, 0, 0, false, 64, 1, 0);
        _filter = new DecapFilter([Director, IpAddress.Parse("203.0.113.3")], [Vip, IpAddress.Parse("203.0.113.11")]);
        if (ParseIPv4() != 80 || DecapFilterCheck() != 60) throw new InvalidOperationException("benchmark setup is wrong");
    }

    [Benchmark]
    public int ParseIPv4()
    {
        var r = PacketParser.ParseIPv4(_tcp, out var info);
        return r == DropReason.None ? info.Flow.DestinationPort : -1;
    }

    /// <summary>IPv4 in IPv4 with the engine's encapsulator, as the engine calls it for an IPIP real server.</summary>
    [Benchmark]
    public int EncapsulateV4() =>
        Tunnel.Encapsulate(_tcp, _output, Director, Real, EncapKind.Ipip, 0, 0, false, 64, 0x1234, 0);

    [Benchmark]
    public int EncapsulateV4_InnerTtlIncrement() =>
        Tunnel.Encapsulate(_tcp, _output, Director, Real, EncapKind.Ipip, 0, 0, false, 64, 0x1234, 0, innerTtlIncrement: 1);

    [Benchmark]
    public ushort Checksum20() => Checksum.Compute(_header);

    [Benchmark]
    public int DecapFilterCheck() =>
        _filter.Check(_encapsulated, out _, out int length) == DropReason.None ? length : -1;
}
