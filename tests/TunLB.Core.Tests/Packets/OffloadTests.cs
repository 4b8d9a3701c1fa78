using System.Buffers.Binary;
using CsCheck;
using TunLB.Core.Packets;

namespace TunLB.Core.Tests.Packets;

public class OffloadTests
{
    /// <summary>Builds an IPv4 or IPv6 TCP/UDP packet with a correct transport checksum computed by the naive reference.</summary>
    internal static byte[] Build(bool v6, bool tcp, byte[] payload, byte flags = 0x18, uint seq = 1000, ushort id = 77, int tcpOptions = 0)
    {
        int ip = v6 ? 40 : 20;
        int l4h = tcp ? 20 + tcpOptions : 8;
        var p = new byte[ip + l4h + payload.Length];
        if (v6)
        {
            p[0] = 0x60;
            BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(4), (ushort)(l4h + payload.Length));
            p[6] = (byte)(tcp ? 6 : 17); p[7] = 64;
            p[8] = 0x20; p[9] = 0x01; p[10] = 0x0d; p[11] = 0xb8; p[23] = 0x10;
            p[24] = 0x20; p[25] = 0x01; p[26] = 0x0d; p[27] = 0xb8; p[39] = 0x99;
        }
        else
        {
            p[0] = 0x45;
            BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(2), (ushort)p.Length);
            BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(4), id);
            p[6] = 0x40; p[8] = 64; p[9] = (byte)(tcp ? 6 : 17);
            new byte[] { 198, 51, 100, 10, 203, 0, 113, 10 }.CopyTo(p, 12);
            BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(10), ChecksumTests.Naive(p.AsSpan(0, 20)));
        }
        var l4 = p.AsSpan(ip);
        BinaryPrimitives.WriteUInt16BigEndian(l4, 40000);
        BinaryPrimitives.WriteUInt16BigEndian(l4.Slice(2), 80);
        if (tcp)
        {
            BinaryPrimitives.WriteUInt32BigEndian(l4.Slice(4), seq);
            BinaryPrimitives.WriteUInt32BigEndian(l4.Slice(8), 5555);
            l4[12] = (byte)((l4h / 4) << 4);
            l4[13] = flags;
            BinaryPrimitives.WriteUInt16BigEndian(l4.Slice(14), 65535);
            for (int i = 20; i < l4h; i++) l4[i] = 1; // NOP options
        }
        else BinaryPrimitives.WriteUInt16BigEndian(l4.Slice(4), (ushort)(l4h + payload.Length));
        payload.CopyTo(p, ip + l4h);
        BinaryPrimitives.WriteUInt16BigEndian(l4.Slice(tcp ? 16 : 6), ReferenceChecksum(p, v6, tcp));
        return p;
    }

    /// <summary>Naive RFC 1071 over an explicit pseudo-header + transport bytes (checksum field zeroed).</summary>
    internal static ushort ReferenceChecksum(byte[] p, bool v6, bool tcp)
    {
        int ip = v6 ? 40 : 20;
        int l4len = p.Length - ip;
        var pseudo = new List<byte>();
        if (v6) { pseudo.AddRange(p.AsSpan(8, 32).ToArray()); pseudo.AddRange([(byte)(l4len >> 24), (byte)(l4len >> 16), (byte)(l4len >> 8), (byte)l4len, 0, 0, 0, (byte)(tcp ? 6 : 17)]); }
        else { pseudo.AddRange(p.AsSpan(12, 8).ToArray()); pseudo.AddRange([0, (byte)(tcp ? 6 : 17), (byte)(l4len >> 8), (byte)l4len]); }
        var l4 = p.AsSpan(ip).ToArray();
        l4[tcp ? 16 : 6] = 0; l4[(tcp ? 16 : 6) + 1] = 0;
        pseudo.AddRange(l4);
        ushort s = ChecksumTests.Naive(pseudo.ToArray());
        return !tcp && s == 0 ? (ushort)0xFFFF : s;
    }

    [Fact]
    public void CompleteChecksum_turns_a_partial_checksum_into_the_full_one() =>
        Gen.Select(Gen.Bool, Gen.Bool, Gen.Byte.Array[0, 1600], Gen.UShort).Sample((v6, tcp, payload, junk) =>
        {
            var good = Build(v6, tcp, payload);
            var partial = (byte[])good.Clone();
            int field = (v6 ? 40 : 20) + (tcp ? 16 : 6);
            BinaryPrimitives.WriteUInt16BigEndian(partial.AsSpan(field), junk); // CHECKSUM_PARTIAL: only the pseudo-header sum
            Assert.True(Offload.CompleteChecksum(partial));
            Assert.Equal(good, partial);
            Assert.True(Offload.TransportChecksumValid(partial));
        }, iter: 5000);

    [Fact]
    public void CompleteChecksum_refuses_what_it_cannot_fix_and_leaves_it_alone()
    {
        var icmp = Build(false, true, new byte[10]);
        icmp[9] = 1;
        var copy = (byte[])icmp.Clone();
        Assert.False(Offload.CompleteChecksum(icmp));
        Assert.Equal(copy, icmp);
        var frag = Build(false, true, new byte[10]);
        frag[6] = 0x20; // MF
        Assert.False(Offload.CompleteChecksum(frag));
        var v6ext = Build(true, true, new byte[10]);
        v6ext[6] = 0; // hop-by-hop options first
        Assert.False(Offload.CompleteChecksum(v6ext));
        Assert.False(Offload.CompleteChecksum(new byte[3]));
        Assert.False(Offload.CompleteChecksum(Build(false, true, new byte[10]).AsSpan(0, 30))); // total length beyond the bytes
    }

    [Fact]
    public void Random_bytes_never_throw() =>
        Gen.Select(Gen.Byte.Array[0, 200], Gen.Int[0, 100], Gen.Int[0, 5]).Sample((b, mss, i) =>
        {
            Offload.CompleteChecksum(b);
            Offload.WriteTcpSegment(b, mss, i, new byte[300]);
        }, iter: 20000);

    [Fact]
    public void Segments_reassemble_the_super_packet_with_correct_headers() =>
        Gen.Select(Gen.Bool, Gen.Byte.Array[1, 9000], Gen.Int[1, 1460], Gen.Byte, Gen.UInt, Gen.Int[0, 3]).Sample((v6, payload, mss, flags, seq, opt) =>
        {
            var super = Build(v6, true, payload, flags, seq, 65530, opt * 4);
            int ip = v6 ? 40 : 20, hdrs = ip + 20 + opt * 4;
            int n = Offload.TcpSegmentCount(super, mss);
            Assert.Equal((payload.Length + mss - 1) / mss, n);
            var joined = new List<byte>();
            var buf = new byte[hdrs + mss];
            for (int i = 0; i < n; i++)
            {
                int len = Offload.WriteTcpSegment(super, mss, i, buf);
                int segPayload = Math.Min(mss, payload.Length - i * mss);
                Assert.Equal(hdrs + segPayload, len);
                var seg = buf.AsSpan(0, len).ToArray();
                if (v6) Assert.Equal(len - 40, BinaryPrimitives.ReadUInt16BigEndian(seg.AsSpan(4)));
                else
                {
                    Assert.Equal(len, BinaryPrimitives.ReadUInt16BigEndian(seg.AsSpan(2)));
                    Assert.Equal((ushort)(65530 + i), BinaryPrimitives.ReadUInt16BigEndian(seg.AsSpan(4)));
                    Assert.Equal(0, ChecksumTests.Naive(seg.AsSpan(0, 20)));
                }
                Assert.Equal(unchecked(seq + (uint)(i * mss)), BinaryPrimitives.ReadUInt32BigEndian(seg.AsSpan(ip + 4)));
                byte f = seg[ip + 13];
                byte expected = flags;
                if (i != n - 1) expected &= unchecked((byte)~0x09);
                if (i != 0) expected &= unchecked((byte)~0x80);
                Assert.Equal(expected, f);
                Assert.Equal(ReferenceChecksum(seg, v6, true), BinaryPrimitives.ReadUInt16BigEndian(seg.AsSpan(ip + 16)));
                Assert.Equal(super.AsSpan(ip + 20, opt * 4).ToArray(), seg.AsSpan(ip + 20, opt * 4).ToArray()); // options copied
                joined.AddRange(seg.AsSpan(hdrs).ToArray());
            }
            Assert.Equal(payload, joined.ToArray());
            Assert.Equal(0, Offload.WriteTcpSegment(super, mss, n, buf));
        }, iter: 2000);

    [Fact]
    public void Segmentation_refuses_udp_and_small_destinations()
    {
        var udp = Build(false, false, new byte[3000]);
        Assert.Equal(0, Offload.TcpSegmentCount(udp, 1000));
        var tcp = Build(false, true, new byte[3000]);
        Assert.Equal(3, Offload.TcpSegmentCount(tcp, 1000));
        Assert.Equal(0, Offload.WriteTcpSegment(tcp, 1000, 0, new byte[100]));
        Assert.Equal(0, Offload.TcpSegmentCount(tcp, 0));
        var empty = Build(false, true, []);
        Assert.Equal(1, Offload.TcpSegmentCount(empty, 1000));
        Assert.Equal(40, Offload.WriteTcpSegment(empty, 1000, 0, new byte[100]));
    }

    /// <summary>The folded (not complemented) pseudo-header sum, by the naive reference: what a CHECKSUM_PARTIAL skb carries.</summary>
    internal static ushort ReferencePseudoHeaderSum(byte[] p, bool v6, bool tcp)
    {
        int ip = v6 ? 40 : 20;
        int l4len = p.Length - ip;
        byte[] pseudo = v6
            ? [.. p.AsSpan(8, 32).ToArray(), (byte)(l4len >> 24), (byte)(l4len >> 16), (byte)(l4len >> 8), (byte)l4len, 0, 0, 0, (byte)(tcp ? 6 : 17)]
            : [.. p.AsSpan(12, 8).ToArray(), 0, (byte)(tcp ? 6 : 17), (byte)(l4len >> 8), (byte)l4len];
        return (ushort)~ChecksumTests.Naive(pseudo);
    }

    [Fact]
    public void CompletePartialChecksum_completes_a_field_holding_only_the_pseudo_header_sum() =>
        Gen.Select(Gen.Bool, Gen.Bool, Gen.Byte.Array[0, 1600]).Sample((v6, tcp, payload) =>
        {
            var good = Build(v6, tcp, payload);
            var partial = (byte[])good.Clone();
            int field = (v6 ? 40 : 20) + (tcp ? 16 : 6);
            BinaryPrimitives.WriteUInt16BigEndian(partial.AsSpan(field), ReferencePseudoHeaderSum(good, v6, tcp));
            bool wasPartial = !partial.AsSpan().SequenceEqual(good); // 1 in 65,536: the full checksum is the pseudo-header sum
            Assert.Equal(wasPartial, Offload.CompletePartialChecksum(partial));
            Assert.Equal(good, partial);
            Assert.True(Offload.TransportChecksumValid(partial));
        }, iter: 5000);

    [Fact]
    public void CompletePartialChecksum_leaves_valid_packets_and_other_bad_checksums_alone() =>
        Gen.Select(Gen.Bool, Gen.Bool, Gen.Byte.Array[0, 1600], Gen.UShort).Sample((v6, tcp, payload, junk) =>
        {
            var good = Build(v6, tcp, payload);
            var copy = (byte[])good.Clone();
            Assert.False(Offload.CompletePartialChecksum(copy)); // a verifying checksum is never touched
            Assert.Equal(good, copy);

            int field = (v6 ? 40 : 20) + (tcp ? 16 : 6);
            if (junk == ReferencePseudoHeaderSum(good, v6, tcp)) return;
            var bad = (byte[])good.Clone();
            BinaryPrimitives.WriteUInt16BigEndian(bad.AsSpan(field), junk);
            var before = (byte[])bad.Clone();
            bool valid = Offload.TransportChecksumValid(bad);
            Assert.False(Offload.CompletePartialChecksum(bad)); // wrong, but not a pseudo-header sum: the engine sees it as it came
            Assert.Equal(before, bad);
            Assert.Equal(valid, Offload.TransportChecksumValid(bad));
        }, iter: 5000);

    [Fact]
    public void CompletePartialChecksum_refuses_what_it_cannot_parse()
    {
        var good = Build(false, true, new byte[10]);
        var truncated = good.AsSpan(0, 30).ToArray();
        Assert.False(Offload.CompletePartialChecksum(truncated));
        var icmp = (byte[])good.Clone();
        icmp[9] = 1;
        Assert.False(Offload.CompletePartialChecksum(icmp));
    }
}
