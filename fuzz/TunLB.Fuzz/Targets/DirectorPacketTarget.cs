using TunLB.Core.DataPath;
using TunLB.Core.Flows;
using TunLB.Core.Model;
using TunLB.Core.Packets;
using TunLB.Core.Scheduling;

namespace TunLB.Fuzz.Targets;

/// <summary>
/// The director's packet path: <see cref="DirectorEngine.Process"/> on raw bytes. Each record of the input is one
/// packet (IPv4 or IPv6: TCP, UDP, fragments, ICMP errors, echo) for one of two engines that are peers (worker 0 and
/// 1), so flows, fragments and ICMP errors quoting a flow build up over a sequence. The control byte picks the engine
/// (bit 0), how far the clock moves first (bits 1-3) and whether the engine sweeps expired entries (bit 4).
/// </summary>
/// <remarks>
/// Services as a real config has them (addresses of tests/fixtures/wire.json): IPv4 and IPv6 VIPs, TCP and UDP,
/// rr/mh/wlc/sh, persistence, a weight-0 server, IPIP and GUE (with and without checksum), 4in6 and 6in4, path MTUs
/// from 576 up, pinned health-check flows. Between inputs the clock jumps far enough that every entry has expired,
/// so inputs do not depend on each other. Oracle beyond "no exception": every output packet lies in the output
/// buffer, and every IPv4 output packet has a valid header checksum.
/// </remarks>
public sealed class DirectorPacketTarget : IFuzzTarget
{
    public const string Director = "203.0.113.2", Director6 = "2001:db8:d::2";
    public const string Vip = "203.0.113.10", Vip2 = "203.0.113.11", Vip6 = "2001:db8:100::10";
    private static readonly long[] s_steps = [0, 1, 10, 100, 1_000, 10_000, 60_000, 900_000];

    private readonly DirectorEngine[] _engines;
    private readonly byte[] _output = new byte[OutputPacket.DefaultOutputBytes];
    private readonly OutputPacket[] _packets = new OutputPacket[OutputPacket.DefaultMaxPackets];
    private long _now = 1_000_000;

    public string Name => "director";

    public DirectorPacketTarget()
    {
        _engines = [Engine(0), Engine(1)];
        var services = Services();
        var pins = new PinnedFlows(61000, 16);
        pins.Pin(61000, IpProtocol.Tcp, 1);
        pins.Pin(61001, IpProtocol.Udp, 20);
        foreach (var e in _engines)
        {
            e.SetServices(services);
            e.SetPeers(_engines);
            e.Pinned = pins;
        }
    }

    private static DirectorEngine Engine(int worker) => new(new DirectorEngineOptions
    {
        ConnectionCapacity = 512,
        FragmentTableCapacity = 64,
        HashSeed = 42,
        WorkerIndex = worker,
        WorkerCount = 2,
        InnerTtlIncrement = 1,
        IcmpRatePerSecond = 1000,
        IcmpBurst = 1000,
    });

    private static Destination Dest(int id, string address, int mtu = 0, EncapKind encap = EncapKind.Ipip,
        bool gueChecksum = false, int weight = 1)
    {
        var a = IpAddress.Parse(address);
        return new Destination(id, a, 80, weight)
        {
            OuterSource = IpAddress.Parse(a.IsV4 ? Director : Director6),
            Mtu = mtu,
            Encap = encap,
            GueChecksum = gueChecksum,
        };
    }

    private static VirtualService Service(string vip, ushort port, byte proto, string scheduler, Destination[] dests,
        int persistence = 0, int prefix = 32, params string[] flags) =>
        new(new ServiceKey(IpAddress.Parse(vip), port, proto),
            SchedulerFactory.Create(scheduler, new SchedulerOptions(251, flags.Length == 0 ? null : new HashSet<string>(flags))), dests)
        {
            PersistenceSeconds = persistence,
            PersistencePrefix = prefix,
        };

    private static VirtualService[] Services() =>
    [
        Service(Vip, 80, IpProtocol.Tcp, "rr",
            [Dest(1, "192.0.2.11"), Dest(2, "192.0.2.12", 1400, EncapKind.Gue, gueChecksum: true), Dest(3, "2001:db8:d::11", 1280)]),
        Service(Vip, 53, IpProtocol.Udp, "mh",
            [Dest(4, "192.0.2.11", 576), Dest(5, "192.0.2.13", 0, EncapKind.Gue), Dest(6, "192.0.2.14", weight: 0)], flags: "mh-port"),
        Service(Vip, 443, IpProtocol.Tcp, "wlc", [Dest(7, "192.0.2.11", 1500), Dest(8, "192.0.2.12", 1480)], persistence: 300, prefix: 24),
        Service(Vip2, 0, IpProtocol.Tcp, "wrr", [Dest(9, "192.0.2.15", 1480, weight: 3), Dest(10, "192.0.2.16", 1000)], persistence: 60),
        Service(Vip2, 0, IpProtocol.Udp, "sh", [Dest(11, "192.0.2.15")], persistence: 60),
        Service(Vip6, 80, IpProtocol.Tcp, "sh",
            [Dest(12, "2001:db8:d::11", 1400), Dest(13, "2001:db8:d::12", 1500, EncapKind.Gue), Dest(14, "192.0.2.21", 1480)], flags: "sh-port"),
        Service(Vip6, 53, IpProtocol.Udp, "dh", [Dest(15, "2001:db8:d::11", 1280, EncapKind.Gue, gueChecksum: true), Dest(16, "2001:db8:d::13")]),
        Service(Vip6, 443, IpProtocol.Tcp, "lc", [Dest(17, "2001:db8:d::14", 1300)], persistence: 120, prefix: 64),
        Service(Director, 9, IpProtocol.Udp, "rr", [Dest(20, "192.0.2.20", 1400)]),
    ];

    public void Run(ReadOnlySpan<byte> input)
    {
        _now += 100_000_000;   // past every timeout: this input starts with empty tables
        var records = new Records(input);
        while (records.MoveNext())
        {
            byte ctl = records.Control;
            DirectorEngine e = _engines[ctl & 1];
            _now += s_steps[(ctl >> 1) & 7];
            if ((ctl & 0x10) != 0) e.Expire(_now, 64);
            e.Process(records.Current, _output, _packets, _now, out int count);
            Check(count);
        }
    }

    private void Check(int count)
    {
        if ((uint)count > (uint)_packets.Length) throw new InvalidOperationException($"count {count}");
        for (int i = 0; i < count; i++)
        {
            OutputPacket p = _packets[i];
            if (p.Offset < 0 || p.Length <= 0 || p.Offset + p.Length > _output.Length)
                throw new InvalidOperationException($"packet {i} at {p.Offset}+{p.Length} outside the output buffer");
            var bytes = _output.AsSpan(p.Offset, p.Length);
            if (!p.IsV6 && (bytes.Length < 20 || !Checksum.IsValid(bytes.Slice(0, (bytes[0] & 0xF) * 4))))
                throw new InvalidOperationException($"IPv4 packet {i} ({p.Kind}) with a bad header checksum");
        }
    }
}
