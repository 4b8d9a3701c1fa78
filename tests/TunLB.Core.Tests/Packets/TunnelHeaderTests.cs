using System.Buffers.Binary;
using CsCheck;
using TunLB.Core.Flows;
using TunLB.Core.Packets;

namespace TunLB.Core.Tests.Packets;

/// <summary>
/// The outer IPv4 header's checksum is summed from the header words in registers and the inner TTL is restored with
/// an incremental checksum update: both must equal a full recomputation, for random headers.
/// </summary>
public class TunnelHeaderTests
{
    private static byte[] InnerV4(byte tos, bool df, byte ttl, ushort id, uint src, uint dst, int payload)
    {
        var p = new byte[20 + payload];
        p[0] = 0x45; p[1] = tos;
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(2), (ushort)p.Length);
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(4), id);
        p[6] = df ? (byte)0x40 : (byte)0;
        p[8] = ttl; p[9] = IpProtocol.Udp;
        BinaryPrimitives.WriteUInt32BigEndian(p.AsSpan(12), src);
        BinaryPrimitives.WriteUInt32BigEndian(p.AsSpan(16), dst);
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(10), Checksum.Compute(p.AsSpan(0, 20)));
        return p;
    }

    [Fact]
    public void Outer_ipv4_header_and_restored_inner_ttl_match_full_recomputation() =>
        Gen.Select(Gen.Select(Gen.Byte, Gen.Bool, Gen.Byte, Gen.UShort, Gen.UInt, Gen.UInt, Gen.Int[0, 64]),
                   Gen.Select(Gen.UInt, Gen.UInt, Gen.Byte[1, 255], Gen.UInt, Gen.Byte[0, 1]))
            .Sample((inner, outer) =>
        {
            var (tos, df, ttl, innerId, isrc, idst, payload) = inner;
            var (osrc, odst, outerTtl, outerId, increment) = outer;
            byte[] p = InnerV4(tos, df, ttl, innerId, isrc, idst, payload);
            var output = new byte[p.Length + 20];
            int n = Tunnel.Encapsulate(p, output, IpAddress.FromV4(osrc), IpAddress.FromV4(odst), EncapKind.Ipip, 0, 0, false,
                outerTtl, outerId, 0, increment);
            Assert.Equal(p.Length + 20, n);

            var h = output.AsSpan(0, 20);
            var expected = new byte[20];
            expected[0] = 0x45; expected[1] = tos;
            BinaryPrimitives.WriteUInt16BigEndian(expected.AsSpan(2), (ushort)n);
            BinaryPrimitives.WriteUInt16BigEndian(expected.AsSpan(4), (ushort)outerId);
            expected[6] = df ? (byte)0x40 : (byte)0;
            expected[8] = outerTtl; expected[9] = IpProtocol.IpIp;
            BinaryPrimitives.WriteUInt32BigEndian(expected.AsSpan(12), osrc);
            BinaryPrimitives.WriteUInt32BigEndian(expected.AsSpan(16), odst);
            BinaryPrimitives.WriteUInt16BigEndian(expected.AsSpan(10), Checksum.Compute(expected));
            Assert.Equal(expected, h.ToArray());
            Assert.True(Checksum.IsValid(h));

            var body = output.AsSpan(20, p.Length);
            Assert.Equal((byte)Math.Min(ttl + increment, 255), body[8]);
            var recomputed = body.Slice(0, 20).ToArray();
            recomputed[10] = 0; recomputed[11] = 0;
            Assert.Equal(Checksum.Compute(recomputed), BinaryPrimitives.ReadUInt16BigEndian(body.Slice(10)));
            Assert.Equal(p.AsSpan(12).ToArray(), body.Slice(12).ToArray());
        }, iter: 20_000);

    [Fact]
    public void Checksum_add_keeps_any_initial_accumulator() =>
        Gen.Select(Gen.Byte.Array[0, 100], Gen.UInt).Sample((data, initial) =>
        {
            // Reference: the initial accumulator folded with the big-endian words, one by one.
            ulong acc = initial;
            for (int i = 0; i < data.Length; i += 2)
                acc += (uint)(data[i] << 8) | (i + 1 < data.Length ? data[i + 1] : 0u);
            Assert.Equal(Checksum.Finish((uint)Checksum.Fold16(acc)), Checksum.Finish(Checksum.Add(initial, data)));
        }, iter: 20_000);

    [Fact]
    public void IsValid_agrees_with_compute_being_zero() =>
        Gen.Select(Gen.Byte.Array[0, 80], Gen.Bool).Sample((data, fix) =>
        {
            if (fix && data.Length >= 12)
            {
                // Half the cases carry a correct checksum in bytes 10-11 (as an IPv4 header does).
                data[10] = 0; data[11] = 0;
                ushort c = Checksum.Compute(data);
                data[10] = (byte)(c >> 8); data[11] = (byte)c;
            }
            Assert.Equal(Checksum.Compute(data) == 0, Checksum.IsValid(data));
        }, iter: 20_000);
}
