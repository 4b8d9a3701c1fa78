using System.Buffers.Binary;
using TunLB.Core.Egress;
using TunLB.Core.Packets;
using static TunLB.Core.Tests.Egress.EgressPackets;

namespace TunLB.Core.Tests.Egress;

public class EgressProbeTests
{
    [Fact]
    public void Probe_has_valid_headers_and_carries_session_hop_and_seq()
    {
        var p = Probe(Vip, ttl: 5, seq: 2);
        Assert.Equal(EgressProbe.PacketLength, p.Length);
        Assert.Equal(0x45, p[0]);
        Assert.True(Checksum.IsValid(p.AsSpan(0, 20)));
        Assert.Equal(5, p[8]);
        Assert.Equal(17, p[9]);
        Assert.Equal(0, BinaryPrimitives.ReadUInt16BigEndian(p.AsSpan(6)) & 0x4000); // DF clear, like traceroute
        Assert.Equal(Session.IpId, BinaryPrimitives.ReadUInt16BigEndian(p.AsSpan(4)));
        Assert.Equal(A(Vip), BinaryPrimitives.ReadUInt32BigEndian(p.AsSpan(12)));
        Assert.Equal(A(Target), BinaryPrimitives.ReadUInt32BigEndian(p.AsSpan(16)));
        Assert.Equal(Session.SourcePort, BinaryPrimitives.ReadUInt16BigEndian(p.AsSpan(20)));
        Assert.Equal(33434 + 4 * 4 + 2, BinaryPrimitives.ReadUInt16BigEndian(p.AsSpan(22)));
        Assert.Equal(EgressProbe.UdpLength, BinaryPrimitives.ReadUInt16BigEndian(p.AsSpan(24)));
        Assert.Equal("TLBe"u8.ToArray(), p.AsSpan(28, 4).ToArray());
        Assert.Equal(Session.Value, BinaryPrimitives.ReadUInt64BigEndian(p.AsSpan(36)));

        // UDP checksum over the pseudo-header verifies to zero.
        var pseudo = new byte[12 + EgressProbe.UdpLength];
        p.AsSpan(12, 8).CopyTo(pseudo);
        pseudo[9] = 17;
        BinaryPrimitives.WriteUInt16BigEndian(pseudo.AsSpan(10), EgressProbe.UdpLength);
        p.AsSpan(20).CopyTo(pseudo.AsSpan(12));
        Assert.True(Checksum.IsValid(pseudo));
    }

    [Fact]
    public void Every_hop_and_seq_round_trips_through_the_port()
    {
        var seen = new HashSet<ushort>();
        for (int ttl = 1; ttl <= EgressProbe.MaxTtl; ttl++)
            for (int seq = 0; seq < EgressProbe.SeqPerHop; seq++)
            {
                ushort port = EgressProbe.Port(ttl, seq);
                Assert.True(seen.Add(port));
                Assert.True(EgressProbe.TryDecodePort(port, out int t, out int s));
                Assert.Equal((ttl, seq), (t, s));
            }
        Assert.Equal(33434, seen.Min());
        Assert.Equal(33689, seen.Max());
        Assert.False(EgressProbe.TryDecodePort(33433, out _, out _));
        Assert.False(EgressProbe.TryDecodePort(33690, out _, out _));
    }

    [Fact]
    public void Out_of_range_ttl_or_seq_is_refused()
    {
        var b = new byte[EgressProbe.PacketLength];
        Assert.Throws<ArgumentOutOfRangeException>(() => EgressProbe.Write(b, 1, 2, Session, 0, 0, EgressSeries.Vip));
        Assert.Throws<ArgumentOutOfRangeException>(() => EgressProbe.Write(b, 1, 2, Session, 65, 0, EgressSeries.Vip));
        Assert.Throws<ArgumentOutOfRangeException>(() => EgressProbe.Write(b, 1, 2, Session, 1, 4, EgressSeries.Vip));
    }

    [Fact]
    public void Session_ids_are_usable_and_round_trip_as_hex()
    {
        for (int i = 0; i < 200; i++)
        {
            var s = EgressSessionId.NewRandom();
            Assert.True(s.SourcePort >= 1024 && s.IpId != 0);
            Assert.True(EgressSessionId.TryParse(s.ToString(), out var back));
            Assert.Equal(s, back);
        }
        Assert.Equal("0123456789abcdef", Session.ToString());
        Assert.False(EgressSessionId.TryParse("0123", out _));
        Assert.False(EgressSessionId.TryParse("0123456789abcdeg", out _));
        Assert.False(EgressSessionId.TryParse(null, out _));
    }
}
