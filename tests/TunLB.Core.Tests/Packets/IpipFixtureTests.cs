using System.Buffers.Binary;
using CsCheck;
using TunLB.Core.Flows;
using TunLB.Core.Packets;

namespace TunLB.Core.Tests.Packets;

public class IpipFixtureTests
{
    private static readonly IpAddress Director = IpAddress.Parse(Fixtures.Director);
    private static readonly IpAddress Real = IpAddress.Parse(Fixtures.Real);

    /// <summary>The engine's encapsulator (<see cref="Tunnel.Encapsulate"/>) for IPv4 in IPv4, as the engine calls it for IPIP.</summary>
    private static int Encap(ReadOnlySpan<byte> inner, Span<byte> output, uint id, byte innerTtlIncrement = 0) =>
        Tunnel.Encapsulate(inner, output, Director, Real, EncapKind.Ipip, 0, 0, false, 64, id, 0, innerTtlIncrement);

    private static int Encap(PacketFixture f, Span<byte> output, byte innerTtlIncrement = 0) =>
        Encap(f.Input, output, (uint)f.Expect.GetProperty("encap_id").GetInt32(), innerTtlIncrement);

    /// <summary>An IPv4 packet of <paramref name="length"/> bytes: version/IHL set, the rest zero.</summary>
    private static byte[] V4Packet(int length) { var p = new byte[length]; p[0] = 0x45; return p; }

    [Theory]
    [MemberData(nameof(Fixtures.ValidNames), MemberType = typeof(Fixtures))]
    public void Encapsulate_matches_scapy_byte_for_byte(string name)
    {
        var f = Fixtures.Packet(name);
        var output = new byte[f.Input.Length + 64];
        output.AsSpan().Fill(0xCC);
        int n = Encap(f, output);
        Assert.Equal(f.Output!.Length, n);
        Assert.Equal(Convert.ToHexString(f.Output!), Convert.ToHexString(output, 0, n));
        Assert.All(output[n..], b => Assert.Equal(0xCC, b)); // nothing written past the result
    }

    [Theory]
    [MemberData(nameof(Fixtures.ValidNames), MemberType = typeof(Fixtures))]
    public void Scapy_output_decapsulates_to_the_inner_bytes(string name)
    {
        var f = Fixtures.Packet(name);
        var r = Ipip.DecapsulateV4(f.Output!, out var outerSource, out int off, out int len);
        Assert.Equal(DropReason.None, r);
        Assert.Equal(IpAddress.Parse(Fixtures.Director), outerSource);
        Assert.Equal(Convert.ToHexString(f.Input), Convert.ToHexString(f.Output!, off, len));
    }

    [Theory]
    [MemberData(nameof(Fixtures.ValidNames), MemberType = typeof(Fixtures))]
    public void Encapsulate_then_decapsulate_round_trips(string name)
    {
        var f = Fixtures.Packet(name);
        var output = new byte[f.Input.Length + Tunnel.Ipv4HeaderLength];
        int n = Encap(f, output);
        Assert.Equal(output.Length, n);
        Assert.True(Checksum.IsValid(output.AsSpan(0, 20)));
        Assert.Equal(DropReason.None, Ipip.DecapsulateV4(output, out _, out int off, out int len));
        Assert.True(output.AsSpan(off, len).SequenceEqual(f.Input));
        // The outer packet is itself a valid IPv4 packet of protocol 4 (which the parser does not serve).
        Assert.Equal(DropReason.UnsupportedProtocol, PacketParser.ParseIPv4(output, out var info));
        Assert.Equal(IpProtocol.IpIp, info.Flow.Protocol);
        Assert.Equal(f.Input[1], info.Tos);
        Assert.Equal((f.Input[6] & 0x40) != 0, info.DontFragment);
    }

    [Theory]
    [MemberData(nameof(Fixtures.ValidNames), MemberType = typeof(Fixtures))]
    public void InnerTtlIncrement_raises_ttl_and_keeps_inner_checksum_valid(string name)
    {
        var f = Fixtures.Packet(name);
        var output = new byte[f.Input.Length + Tunnel.Ipv4HeaderLength];
        int n = Encap(f, output, innerTtlIncrement: 1);
        Assert.Equal(output.Length, n);
        // The outer header is unaffected by the option.
        Assert.Equal(Convert.ToHexString(f.Output!, 0, 20), Convert.ToHexString(output, 0, 20));

        var inner = output.AsSpan(20);
        int ihl = (inner[0] & 0x0F) * 4;
        byte expectedTtl = (byte)Math.Min(255, f.Input[8] + 1);
        Assert.Equal(expectedTtl, inner[8]);
        Assert.True(Checksum.IsValid(inner.Slice(0, ihl)), "inner header checksum invalid");

        // Against a full recompute of the expected header.
        var expected = f.Input.AsSpan(0, ihl).ToArray();
        expected[8] = expectedTtl;
        expected[10] = 0; expected[11] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(expected.AsSpan(10), Checksum.Compute(expected));
        Assert.Equal(Convert.ToHexString(expected), Convert.ToHexString(inner.Slice(0, ihl)));
        // Everything after the inner header is untouched.
        Assert.True(inner.Slice(ihl).SequenceEqual(f.Input.AsSpan(ihl)));
    }

    [Fact]
    public void InnerTtlIncrement_saturates_at_255()
    {
        var f = Fixtures.Packet("tcp_rst");
        Assert.Equal(255, f.Input[8]);
        var output = new byte[f.Input.Length + 20];
        Encap(f, output, innerTtlIncrement: 1);
        Assert.True(output.AsSpan(20).SequenceEqual(f.Input)); // unchanged, checksum included
    }

    [Fact]
    public void InnerTtlIncrement_property_matches_full_recompute_for_random_headers()
    {
        // Random valid 20-byte headers (any TTL, any increment): the incremental fix must equal a full recompute.
        Gen.Select(Gen.Byte.Array[20], Gen.Byte[1, 255]).Sample((hdr, inc) =>
        {
            hdr[0] = 0x45;
            BinaryPrimitives.WriteUInt16BigEndian(hdr.AsSpan(2), 20);
            hdr[10] = 0; hdr[11] = 0;
            BinaryPrimitives.WriteUInt16BigEndian(hdr.AsSpan(10), Checksum.Compute(hdr));
            var output = new byte[40];
            Assert.Equal(40, Encap(hdr, output, 1, inc));
            var expected = (byte[])hdr.Clone();
            expected[8] = (byte)Math.Min(255, hdr[8] + inc);
            expected[10] = 0; expected[11] = 0;
            BinaryPrimitives.WriteUInt16BigEndian(expected.AsSpan(10), Checksum.Compute(expected));
            Assert.Equal(Convert.ToHexString(expected), Convert.ToHexString(output, 20, 20));
        }, iter: 5000);
    }

    [Fact]
    public void Encapsulate_refuses_small_output_and_short_inner()
    {
        var f = Fixtures.Packet("tcp_syn_options_df");
        Assert.Equal(-1, Encap(f, new byte[f.Input.Length + 19]));
        Assert.Equal(f.Input.Length + 20, Encap(f, new byte[f.Input.Length + 20]));
        Assert.Equal(-1, Encap(f.Input.AsSpan(0, 19), new byte[100], 1));
        Assert.Equal(-1, Encap(V4Packet(65516), new byte[70000], 1));
        Assert.Equal(65535, Encap(V4Packet(65515), new byte[70000], 1));
    }

    [Fact]
    public void DecapsulateV4_rejects_malformed_outer_headers()
    {
        var good = Fixtures.Packet("tcp_syn_options_df").Output!;
        Assert.Equal(DropReason.None, Ipip.DecapsulateV4(good, out _, out _, out _));
        Assert.Equal(DropReason.Truncated, Ipip.DecapsulateV4(good.AsSpan(0, 19), out _, out _, out _));
        Assert.Equal(DropReason.BadTotalLength, Ipip.DecapsulateV4(good.AsSpan(0, good.Length - 1), out _, out _, out _));
        Assert.Equal(DropReason.NotTunnel, Ipip.DecapsulateV4(Fixtures.Packet("tcp_syn_options_df").Input, out _, out _, out _));
        var frag = (byte[])good.Clone(); frag[6] |= 0x20;
        Assert.Equal(DropReason.Fragment, Ipip.DecapsulateV4(frag, out _, out _, out _));
        var v6 = (byte[])good.Clone(); v6[0] = 0x65;
        Assert.Equal(DropReason.BadVersion, Ipip.DecapsulateV4(v6, out _, out _, out _));
        var ihl = (byte[])good.Clone(); ihl[0] = 0x44;
        Assert.Equal(DropReason.BadHeaderLength, Ipip.DecapsulateV4(ihl, out _, out _, out _));
    }
}
