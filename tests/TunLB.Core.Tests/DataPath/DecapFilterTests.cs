using System.Buffers.Binary;
using CsCheck;
using TunLB.Core.DataPath;
using TunLB.Core.Flows;
using TunLB.Core.Packets;
using TunLB.Core.Tests.Packets;

namespace TunLB.Core.Tests.DataPath;

public class DecapFilterTests
{
    private static readonly IpAddress Director = IpAddress.Parse(Fixtures.Director);
    private static readonly IpAddress Real = IpAddress.Parse(Fixtures.Real);
    private static readonly IpAddress Vip = IpAddress.Parse(Fixtures.Vip);

    private static DecapFilter FromFixtureConfig() => new(
        Fixtures.DecapDirectors.Select(IpAddress.Parse),
        Fixtures.DecapVips.Select(IpAddress.Parse));

    private static DropReason Reason(string verdict) =>
        verdict == "ok" ? DropReason.None : (DropReason)Array.IndexOf(DropReasons.Names, verdict);

    private static byte[] Encap(ReadOnlySpan<byte> inner, IpAddress outerSource)
    {
        var buf = new byte[inner.Length + 20];
        Assert.Equal(buf.Length, Tunnel.Encapsulate(inner, buf, outerSource, Real, EncapKind.Ipip, 0, 0, false, 64, 7, 0));
        return buf;
    }

    /// <summary>
    /// Bytes that are not an IP packet behind an outer header (the encapsulator refuses them): a blank IPv4 header of
    /// the same length is encapsulated (same outer header: TOS 0, no DF) and the bytes put in its place.
    /// </summary>
    private static byte[] EncapNotIp(byte[] inner, IpAddress outerSource)
    {
        var blank = new byte[inner.Length];
        blank[0] = 0x45;
        var buf = Encap(blank, outerSource);
        inner.CopyTo(buf, Tunnel.Ipv4HeaderLength);
        return buf;
    }

    /// <summary>A valid TCP SYN from the client to <paramref name="dst"/> built by hand (checksummed header).</summary>
    private static byte[] Inner(IpAddress dst, byte protocol = IpProtocol.Tcp)
    {
        var p = new byte[40];
        p[0] = 0x45; BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(2), 40);
        p[6] = 0x40; p[8] = 63; p[9] = protocol;
        IpAddress.Parse(Fixtures.Client).WriteV4(p.AsSpan(12));
        dst.WriteV4(p.AsSpan(16));
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(10), Checksum.Compute(p.AsSpan(0, 20)));
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(20), 40000);
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(22), 80);
        p[32] = 0x50; p[33] = TcpFlags.Syn;
        return p;
    }

    [Theory]
    [MemberData(nameof(Fixtures.DecapNames), MemberType = typeof(Fixtures))]
    public void Verdict_matches_decap_fixture(string name)
    {
        var c = Fixtures.DecapCases.Single(x => x.Name == name);
        var filter = FromFixtureConfig();
        var r = filter.Check(c.Input, out int off, out int len);
        Assert.Equal(Reason(c.Verdict), r);
        if (r == DropReason.None)
        {
            Assert.Equal(c.Expect.GetProperty("inner_offset").GetInt32(), off);
            Assert.Equal(c.Expect.GetProperty("inner_length").GetInt32(), len);
            Assert.Equal(DropReason.None, PacketParser.ParseIPv4(c.Input.AsSpan(off, len), out var info));
            Assert.Equal(Vip, info.Flow.Destination);
            Assert.Equal(1, filter.Accepted);
        }
        else
        {
            Assert.Equal(0, off);
            Assert.Equal(0, len);
            Assert.Equal(0, filter.Accepted);
        }
        Assert.Equal(1, filter.Drops[(int)r]);
        Assert.Equal(1, filter.Drops.Sum());
    }

    [Fact]
    public void Decap_fixtures_cover_every_filter_verdict()
    {
        var verdicts = Fixtures.DecapCases.Select(c => c.Verdict).ToHashSet();
        foreach (var v in new[] { "ok", "truncated", "bad_version", "bad_header_length", "bad_total_length", "bad_checksum",
                     "fragment", "not_tunnel", "not_from_director", "inner_not_vip", "unsupported_protocol" })
            Assert.Contains(v, verdicts);
    }

    [Theory]
    [MemberData(nameof(Fixtures.ValidNames), MemberType = typeof(Fixtures))]
    public void Accepts_every_scapy_encapsulation_and_returns_the_inner_bytes(string name)
    {
        var f = Fixtures.Packet(name);
        var filter = new DecapFilter([Director], [Vip]);
        Assert.Equal(DropReason.None, filter.Check(f.Output!, out int off, out int len));
        Assert.True(f.Output.AsSpan(off, len).SequenceEqual(f.Input));
    }

    [Fact]
    public void Each_verdict_is_counted()
    {
        var filter = new DecapFilter([Director], [Vip]);
        var ok = Encap(Inner(Vip), Director);
        Assert.Equal(DropReason.None, filter.Check(ok, out _, out _));
        Assert.Equal(DropReason.None, filter.Check(ok, out _, out _));
        Assert.Equal(DropReason.NotFromDirector, filter.Check(Encap(Inner(Vip), IpAddress.Parse("198.51.100.66")), out _, out _));
        Assert.Equal(DropReason.InnerNotVip, filter.Check(Encap(Inner(IpAddress.Parse("192.0.2.99")), Director), out _, out _));
        Assert.Equal(DropReason.NotTunnel, filter.Check(Inner(Vip), out _, out _));
        Assert.Equal(DropReason.Truncated, filter.Check(ok.AsSpan(0, 5), out _, out _));
        Assert.Equal(2, filter.Accepted);
        Assert.Equal(4, filter.Dropped);
        Assert.Equal(DropReasons.Count, filter.Drops.Length);
        Assert.Equal(1, filter.Drops[(int)DropReason.NotFromDirector]);
        Assert.Equal(1, filter.Drops[(int)DropReason.InnerNotVip]);
        Assert.Equal(1, filter.Drops[(int)DropReason.NotTunnel]);
        Assert.Equal(1, filter.Drops[(int)DropReason.Truncated]);
    }

    [Fact]
    public void Inner_checks_come_after_the_director_check()
    {
        // A packet from a stranger is NotFromDirector whatever it carries: the source is judged first.
        var filter = new DecapFilter([Director], [Vip]);
        var garbage = EncapNotIp(new byte[20], IpAddress.Parse("198.51.100.66"));
        Assert.Equal(DropReason.NotFromDirector, filter.Check(garbage, out _, out _));
        Assert.Equal(DropReason.BadVersion, filter.Check(EncapNotIp(new byte[20], Director), out _, out _));
    }

    [Fact]
    public void Is_not_an_open_relay_for_random_inner_destinations()
    {
        // Property: from a director, only inner destinations in the VIP set pass; from anyone else nothing passes.
        var vips = new[] { Vip, IpAddress.Parse("203.0.113.11") };
        var filter = new DecapFilter([Director], vips);
        Gen.Select(Gen.UInt, Gen.UInt, Gen.Bool).Sample((dst, src, fromDirector) =>
        {
            var d = IpAddress.FromV4(dst);
            var s = fromDirector ? Director : IpAddress.FromV4(src);
            var r = filter.Check(Encap(Inner(d), s), out _, out _);
            var expected = s != Director ? DropReason.NotFromDirector
                : vips.Contains(d) ? DropReason.None : DropReason.InnerNotVip;
            Assert.Equal(expected, r);
        }, iter: 5_000);
        foreach (var v in vips) Assert.Equal(DropReason.None, filter.Check(Encap(Inner(v), Director), out _, out _));
    }

    [Theory]
    [InlineData(IpProtocol.IpIp)]
    [InlineData(IpProtocol.Ipv6)]
    public void Refuses_nested_tunnels(byte protocol)
    {
        var filter = new DecapFilter([Director], [Vip]);
        Assert.Equal(DropReason.UnsupportedProtocol, filter.Check(Encap(Inner(Vip, protocol), Director), out _, out _));
        Assert.Equal(DropReason.None, filter.Check(Encap(Inner(Vip, IpProtocol.Udp), Director), out _, out _));
        Assert.Equal(DropReason.None, filter.Check(Encap(Inner(Vip, IpProtocol.Icmp), Director), out _, out _));
    }

    [Fact]
    public void Large_sets_use_the_frozen_set_path_with_the_same_answers()
    {
        var directors = Enumerable.Range(1, 50).Select(i => IpAddress.FromV4(0xCB007100u + (uint)i)).ToArray(); // 203.0.113.1-50
        var vips = Enumerable.Range(0, 40).Select(i => IpAddress.FromV4(0xC6336400u + 100 + (uint)i)).Append(Vip).ToArray();
        var filter = new DecapFilter(directors, vips);
        Assert.Equal(50, filter.DirectorCount);
        Assert.True(filter.DirectorCount > DecapFilter.LinearScanLimit);
        foreach (var d in directors)
            foreach (var v in vips.Take(3).Append(Vip))
                Assert.Equal(DropReason.None, filter.Check(Encap(Inner(v), d), out _, out _));
        Assert.Equal(DropReason.NotFromDirector, filter.Check(Encap(Inner(Vip), IpAddress.FromV4(0xCB007100u + 51)), out _, out _));
        Assert.Equal(DropReason.InnerNotVip, filter.Check(Encap(Inner(IpAddress.FromV4(0xC6336400u + 99)), directors[0]), out _, out _));
    }

    [Fact]
    public void Empty_director_set_fails_closed()
    {
        var filter = new DecapFilter([], [Vip]);
        Assert.Equal(DropReason.NotFromDirector, filter.Check(Encap(Inner(Vip), Director), out _, out _));
        var noVips = new DecapFilter([Director], []);
        Assert.Equal(DropReason.InnerNotVip, noVips.Check(Encap(Inner(Vip), Director), out _, out _));
    }

    [Fact]
    public void Duplicates_are_collapsed_and_ipv6_addresses_are_accepted()
    {
        Assert.Equal(1, new DecapFilter([Director, Director], [Vip]).DirectorCount);
        Assert.Equal(2, new DecapFilter([IpAddress.Parse("2001:db8::1"), Director, IpAddress.Parse("2001:db8::1")], [Vip]).DirectorCount);
        Assert.Equal(2, new DecapFilter([Director], [Vip, IpAddress.Parse("2001:db8::10")]).VipCount);
    }

    [Fact]
    public void Check_allocates_nothing()
    {
        var small = new DecapFilter([Director], [Vip]);
        var large = new DecapFilter(Enumerable.Range(1, 20).Select(i => IpAddress.FromV4(0xCB007100u + (uint)i)),
            Enumerable.Range(0, 20).Select(i => IpAddress.FromV4(0xCB007100u + 10 + (uint)i)));
        var ok = Encap(Inner(Vip), Director);
        var bad = Encap(Inner(IpAddress.Parse("192.0.2.99")), Director);
        void Loop()
        {
            for (int i = 0; i < 10_000; i++)
            {
                small.Check(ok, out _, out _);
                small.Check(bad, out _, out _);
                large.Check(ok, out _, out _);
                large.Check(bad, out _, out _);
            }
        }
        Loop(); // warm-up: the same loop, so tiering (and on-stack replacement of the loop) is done before measuring
        long before = GC.GetAllocatedBytesForCurrentThread();
        Loop();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(20_000, small.Accepted);
        Assert.Equal(20_000, large.Accepted);
    }
}
