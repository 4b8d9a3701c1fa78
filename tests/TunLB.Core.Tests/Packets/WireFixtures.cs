using System.Buffers.Binary;
using System.Text.Json;
using TunLB.Core.DataPath;
using TunLB.Core.Flows;
using TunLB.Core.Model;
using TunLB.Core.Packets;
using TunLB.Core.Tests.DataPath;

namespace TunLB.Core.Tests.Packets;

public sealed record WireOutput(OutputKind Kind, IpAddress NextHop, byte[] Bytes);

/// <summary>One engine case of tests/fixtures/wire.json (see gen_packets.py for the format).</summary>
public sealed record WireCase(string Name, string Description, ServiceKey Service, IpAddress Real, EncapKind Encap, int Mtu,
    bool GueChecksum, byte[][] Setup, byte[] Input, string Verdict, WireOutput[] Outputs)
{
    public override string ToString() => Name;

    public DropReason ExpectedReason => Verdict == "ok" ? DropReason.None : (DropReason)Array.IndexOf(DropReasons.Names, Verdict);

    /// <summary>A fresh engine with this case's one service and one real server.</summary>
    public DirectorEngine NewEngine()
    {
        var c = WireFixtures.Constants;
        var dest = new Destination(1, Real, Service.Port, 1)
        {
            OuterSource = IpAddress.Parse(Real.IsV4 ? c["director"] : c["director6"]),
            Encap = Encap,
            Mtu = Mtu,
            GueChecksum = GueChecksum,
            GuePort = ushort.Parse(c["gue_port"]),
        };
        var e = new DirectorEngine(new DirectorEngineOptions { ConnectionCapacity = 256, HashSeed = 99 });
        e.SetServices([new VirtualService(Service, new TestRoundRobinScheduler(), [dest])]);
        return e;
    }
}

public sealed record WireDecapCase(string Name, string Description, string How, IpAddress Source, byte Protocol, byte[] Input,
    string Verdict, int InnerOffset, int InnerLength)
{
    public override string ToString() => Name;
}

public static class WireFixtures
{
    private static readonly Lazy<(Dictionary<string, string>, List<WireCase>, List<WireDecapCase>)> Data = new(Load);

    public static Dictionary<string, string> Constants => Data.Value.Item1;
    public static IReadOnlyList<WireCase> Engine => Data.Value.Item2;
    public static IReadOnlyList<WireDecapCase> Decap => Data.Value.Item3;

    public static TheoryData<string> EngineNames() { var d = new TheoryData<string>(); foreach (var c in Engine) d.Add(c.Name); return d; }
    public static TheoryData<string> DecapNames() { var d = new TheoryData<string>(); foreach (var c in Decap) d.Add(c.Name); return d; }

    private static (Dictionary<string, string>, List<WireCase>, List<WireDecapCase>) Load()
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(Fixtures.Directory, "wire.json")));
        var root = doc.RootElement;
        var constants = root.GetProperty("constants").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.ToString());
        var engine = new List<WireCase>();
        foreach (var e in root.GetProperty("engine").EnumerateArray())
        {
            var s = e.GetProperty("service");
            var r = e.GetProperty("real");
            var x = e.GetProperty("expect");
            engine.Add(new WireCase(
                e.GetProperty("name").GetString()!,
                e.GetProperty("description").GetString()!,
                new ServiceKey(IpAddress.Parse(s.GetProperty("vip").GetString()!), (ushort)s.GetProperty("port").GetInt32(),
                    s.GetProperty("protocol").GetString() == "udp" ? IpProtocol.Udp : IpProtocol.Tcp),
                IpAddress.Parse(r.GetProperty("address").GetString()!),
                r.GetProperty("encap").GetString() == "gue" ? EncapKind.Gue : EncapKind.Ipip,
                r.GetProperty("mtu").GetInt32(),
                r.GetProperty("gue_checksum").GetBoolean(),
                e.GetProperty("setup_hex").EnumerateArray().Select(h => Convert.FromHexString(h.GetString()!)).ToArray(),
                Convert.FromHexString(e.GetProperty("input_hex").GetString()!),
                x.GetProperty("verdict").GetString()!,
                x.GetProperty("outputs").EnumerateArray().Select(o => new WireOutput(
                    o.GetProperty("kind").GetString() == "reply" ? OutputKind.Reply : OutputKind.Tunnel,
                    IpAddress.Parse(o.GetProperty("next_hop").GetString()!),
                    Convert.FromHexString(o.GetProperty("hex").GetString()!))).ToArray()));
        }
        var decap = new List<WireDecapCase>();
        foreach (var e in root.GetProperty("decap").EnumerateArray())
        {
            var x = e.GetProperty("expect");
            decap.Add(new WireDecapCase(
                e.GetProperty("name").GetString()!,
                e.GetProperty("description").GetString()!,
                e.GetProperty("how").GetString()!,
                e.TryGetProperty("source", out var src) ? IpAddress.Parse(src.GetString()!) : default,
                e.TryGetProperty("protocol", out var pr) ? (byte)pr.GetInt32() : (byte)0,
                Convert.FromHexString(e.GetProperty("input_hex").GetString()!),
                x.GetProperty("verdict").GetString()!,
                x.TryGetProperty("inner_offset", out var io) ? io.GetInt32() : 0,
                x.TryGetProperty("inner_length", out var il) ? il.GetInt32() : 0));
        }
        return (constants, engine, decap);
    }

    /// <summary>
    /// Zeroes the fields the engine derives from its seed (see gen_packets.py): IPv4 identification (header checksum
    /// recomputed), outer UDP source port and checksum, IPv6 flow label and fragment identification.
    /// </summary>
    public static byte[] Normalize(ReadOnlySpan<byte> packet)
    {
        var p = packet.ToArray();
        if (p[0] >> 4 == 4)
        {
            int ihl = (p[0] & 0x0F) * 4;
            p[4] = 0; p[5] = 0;
            bool first = (BinaryPrimitives.ReadUInt16BigEndian(p.AsSpan(6)) & 0x1FFF) == 0;
            if (p[9] == IpProtocol.Udp && first) ZeroUdp(p, ihl);
            p[10] = 0; p[11] = 0;
            BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(10), Checksum.Compute(p.AsSpan(0, ihl)));
        }
        else
        {
            p[1] &= 0xF0; p[2] = 0; p[3] = 0;
            if (p[6] == IpProtocol.Udp) ZeroUdp(p, 40);
            if (p[6] == IpProtocol.Fragment) { p[44] = 0; p[45] = 0; p[46] = 0; p[47] = 0; }
        }
        return p;
    }

    private static void ZeroUdp(byte[] p, int off)
    {
        p[off] = 0; p[off + 1] = 0; p[off + 6] = 0; p[off + 7] = 0;
    }
}
