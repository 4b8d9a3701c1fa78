using System.Buffers.Binary;
using TunLB.Core.DataPath;
using TunLB.Core.Flows;
using TunLB.Core.Packets;
using TunLB.Core.Tests.DataPath;

namespace TunLB.Core.Tests.Packets;

/// <summary>Drives the engine and the decap filter with tests/fixtures/wire.json (scapy-built expectations).</summary>
public class WireFixtureTests
{
    /// <summary>Runs a case; returns the engine's outputs.</summary>
    internal static List<(OutputPacket Meta, byte[] Bytes)> Run(WireCase c, out DropReason verdict)
    {
        var e = c.NewEngine();
        var batch = new EngineOutput();
        long now = 1000;
        foreach (var s in c.Setup)
            Assert.Equal(DropReason.None, e.ProcessInto(s, batch, now++));
        verdict = e.ProcessInto(c.Input, batch, now);
        var list = new List<(OutputPacket, byte[])>();
        for (int i = 0; i < batch.Count; i++) list.Add((batch.Packets[i], batch[i].ToArray()));
        return list;
    }

    [Theory]
    [MemberData(nameof(WireFixtures.EngineNames), MemberType = typeof(WireFixtures))]
    public void Engine_output_matches_scapy(string name)
    {
        var c = WireFixtures.Engine.Single(x => x.Name == name);
        var outputs = Run(c, out var verdict);
        Assert.Equal(c.ExpectedReason, verdict);
        Assert.Equal(c.Outputs.Length, outputs.Count);
        for (int i = 0; i < outputs.Count; i++)
        {
            var (meta, bytes) = outputs[i];
            Assert.Equal(c.Outputs[i].Kind, meta.Kind);
            Assert.Equal(c.Outputs[i].NextHop, meta.NextHop);
            AssertChecksumsValid(bytes);
            Assert.Equal(Convert.ToHexString(WireFixtures.Normalize(c.Outputs[i].Bytes)), Convert.ToHexString(WireFixtures.Normalize(bytes)));
        }
    }

    /// <summary>Outer IPv4 header, and for unfragmented packets the ICMP / ICMPv6 / UDP checksum, are right.</summary>
    internal static void AssertChecksumsValid(byte[] p)
    {
        if (p[0] >> 4 == 4)
        {
            int ihl = (p[0] & 0x0F) * 4;
            Assert.True(Checksum.IsValid(p.AsSpan(0, ihl)), "IPv4 header checksum");
            if ((BinaryPrimitives.ReadUInt16BigEndian(p.AsSpan(6)) & 0x3FFF) != 0) return;
            var l4 = p.AsSpan(ihl);
            if (p[9] == IpProtocol.Icmp) Assert.True(Checksum.IsValid(l4), "ICMP checksum");
            if (p[9] == IpProtocol.Udp && BinaryPrimitives.ReadUInt16BigEndian(l4.Slice(6)) != 0)
                Assert.Equal(0, L4Sum(IpAddress.FromV4Bytes(p.AsSpan(12)), IpAddress.FromV4Bytes(p.AsSpan(16)), IpProtocol.Udp, l4));
        }
        else
        {
            var l4 = p.AsSpan(40);
            var src = IpAddress.FromV6Bytes(p.AsSpan(8));
            var dst = IpAddress.FromV6Bytes(p.AsSpan(24));
            if (p[6] is IpProtocol.Icmpv6 or IpProtocol.Udp)
                Assert.Equal(0, L4Sum(src, dst, p[6], l4));
            if (p[6] == IpProtocol.Udp) Assert.NotEqual(0, BinaryPrimitives.ReadUInt16BigEndian(l4.Slice(6)));
        }
    }

    private static ushort L4Sum(IpAddress src, IpAddress dst, byte proto, ReadOnlySpan<byte> l4) =>
        Checksum.Finish(Checksum.Add(Checksum.PseudoHeader(src, dst, proto, l4.Length), l4));

    [Theory]
    [MemberData(nameof(WireFixtures.DecapNames), MemberType = typeof(WireFixtures))]
    public void Decap_verdict_matches_fixture(string name)
    {
        var c = WireFixtures.Decap.Single(x => x.Name == name);
        var k = WireFixtures.Constants;
        var filter = new DecapFilter([IpAddress.Parse(k["director"]), IpAddress.Parse(k["director6"])],
            [IpAddress.Parse(k["vip"]), IpAddress.Parse(k["vip6"])]);
        int off, len;
        DropReason r = c.How switch
        {
            "ipv4" => filter.Check(c.Input, out off, out len),
            "payload" => filter.CheckPayload(c.Source, c.Protocol, c.Input, out off, out len),
            "gue" => filter.CheckGue(c.Source, c.Input, out off, out len),
            _ => throw new InvalidDataException(c.How),
        };
        string got = r == DropReason.None ? "ok" : r.Name();
        Assert.Equal(c.Verdict, got);
        if (r == DropReason.None)
        {
            Assert.Equal((c.InnerOffset, c.InnerLength), (off, len));
            Assert.Equal(DropReason.None, PacketParser.Parse(c.Input.AsSpan(off, len), out _));
        }
    }

    [Fact]
    public void Wire_fixtures_cover_every_feature()
    {
        var names = WireFixtures.Engine.Select(c => c.Name).ToHashSet();
        foreach (var n in new[] { "icmp_frag_needed_for_flow", "icmp_echo_answered", "frag_needed_generated", "outer_fragmentation",
                     "fragment_follows_first", "ipv6_in_ipv6", "ipv6_in_ipv4", "ipv4_in_ipv6", "ipv6_packet_too_big", "gue_ipv4", "gue_ipv6_outer" })
            Assert.Contains(n, names);
        Assert.True(WireFixtures.Decap.Count >= 10);
    }
}
