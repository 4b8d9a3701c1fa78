using System.Buffers.Binary;
using TunLB.Core.DataPath;
using TunLB.Core.Flows;
using TunLB.Core.Packets;
using TunLB.Linux;
using TunLB.RealServer;

namespace TunLB.Fuzz.Targets;

/// <summary>
/// The real server's decap path: <see cref="DecapWorker.Process"/> (and so <see cref="DecapFilter"/>) on one batch
/// per input, each record one datagram. The control byte picks what the datagram is (bits 0-1: whole IPv4 packet,
/// IPv6 raw-socket payload, GUE payload), its sender (bits 2-3: director, IPv6 director, stranger, IPv4 director
/// again) and the raw socket's protocol for IPv6 payloads (bit 4: 41, else 4). Oracle: an injected packet is a
/// whole IPv4 or IPv6 packet (its length field matches the slice) addressed to a VIP.
/// </summary>
public sealed class DecapTarget : IFuzzTarget
{
    private static readonly IpAddress[] s_sources =
        [IpAddress.Parse("203.0.113.2"), IpAddress.Parse("2001:db8:d::2"), IpAddress.Parse("198.51.100.66"), IpAddress.Parse("192.0.2.1")];
    private static readonly IpAddress[] s_vips = [IpAddress.Parse("203.0.113.10"), IpAddress.Parse("2001:db8:100::10")];

    private readonly DatagramBatch _batch = new(DatagramBatch.DefaultCapacity);
    private readonly DecapWorker[] _workers;

    public string Name => "decap";

    public DecapTarget()
    {
        var directors = new[] { s_sources[0], s_sources[1], s_sources[3] };
        var injector = new CheckingInjector();
        _workers =
        [
            new DecapWorker(NoInput.Instance, new DecapFilter(directors, s_vips), DecapInput.Ipv4Packet, IpProtocol.IpIp, injector),
            new DecapWorker(NoInput.Instance, new DecapFilter(directors, s_vips), DecapInput.Ipv6Payload, IpProtocol.IpIp, injector),
            new DecapWorker(NoInput.Instance, new DecapFilter(directors, s_vips), DecapInput.Ipv6Payload, IpProtocol.Ipv6, injector),
            new DecapWorker(NoInput.Instance, new DecapFilter(directors, s_vips), DecapInput.Gue, 0, injector),
        ];
    }

    public void Run(ReadOnlySpan<byte> input)
    {
        var records = new Records(input);
        while (records.MoveNext())
        {
            byte ctl = records.Control;
            int kind = ctl & 3;
            DecapWorker w = kind switch
            {
                0 or 3 => _workers[0],
                1 => _workers[(ctl & 0x10) != 0 ? 2 : 1],
                _ => _workers[3],
            };
            _batch.Clear();
            _batch.Add(records.Current, s_sources[(ctl >> 2) & 3]);
            w.Process(_batch);
        }
    }

    private sealed class CheckingInjector : IPacketInjector
    {
        public bool Inject(ReadOnlySpan<byte> p)
        {
            if (p.Length < 20) throw new InvalidOperationException($"injected {p.Length} bytes");
            if (p[0] >> 4 == 4)
            {
                if (BinaryPrimitives.ReadUInt16BigEndian(p.Slice(2)) != p.Length) throw new InvalidOperationException("IPv4 length mismatch");
                if (!IpAddress.FromV4Bytes(p.Slice(16)).Equals(s_vips[0])) throw new InvalidOperationException("IPv4 inner not to the VIP");
            }
            else if (p[0] >> 4 == 6)
            {
                if (p.Length < 40 || 40 + BinaryPrimitives.ReadUInt16BigEndian(p.Slice(4)) != p.Length)
                    throw new InvalidOperationException("IPv6 length mismatch");
                if (!IpAddress.FromV6Bytes(p.Slice(24)).Equals(s_vips[1])) throw new InvalidOperationException("IPv6 inner not to the VIP");
            }
            else throw new InvalidOperationException($"injected version {p[0] >> 4}");
            return true;
        }
    }

    /// <summary>The workers are driven through <see cref="DecapWorker.Process"/> only; their receive loop is not run.</summary>
    private sealed class NoInput : IDatagramBatchReceiver
    {
        public static readonly NoInput Instance = new();
        public string Name => "none";
        public int LastError => 0;
        public int ReceiveMany(DatagramBatch batch, int timeoutMs) => -1;
        public void Dispose() { }
    }
}
