using TunLB.Core.Egress;
using static TunLB.Core.Tests.Egress.EgressPackets;

namespace TunLB.Core.Tests.Egress;

public class IcmpErrorTests
{
    private const string Router = "198.18.2.1";

    [Fact]
    public void Time_exceeded_quoting_header_and_8_bytes_matches_by_tag()
    {
        var icmp = IcmpError(Router, 11, 0, Probe(Vip, 3, 1), quoteBytes: 28);
        Assert.True(IcmpErrorV4.TryParse(icmp, out var e));
        Assert.Equal(A(Router), e.From);
        Assert.Equal(A(Vip), e.To);
        Assert.Equal((11, 0), (e.Type, e.Code));
        Assert.Equal(A(Vip), e.QuotedSource);
        Assert.Equal(A(Target), e.QuotedDestination);
        Assert.Equal(17, e.QuotedProtocol);
        Assert.Equal(8, e.QuotedTransportLength);

        Assert.True(EgressAnswer.TryMatch(icmp, e, 1234, out var a));
        Assert.False(a.HasSession);
        Assert.Equal(Session.Tag, a.Tag);
        Assert.Equal((3, 1), (a.Ttl, a.Seq));
        Assert.Equal(IP(Router), a.From);
        Assert.Equal(IP(Vip), a.ProbeSource);
        Assert.Equal(IP(Target), a.Target);
        Assert.Equal(1234, a.TimeMs);
        Assert.True(a.BelongsTo(Session));
        Assert.False(a.BelongsTo(new EgressSessionId(Session.Value ^ 1)));
        // Only the tag is known: a session differing above the tag cannot be told apart.
        Assert.True(a.BelongsTo(new EgressSessionId(Session.Value ^ (1UL << 40))));
    }

    [Fact]
    public void Port_unreachable_quoting_the_whole_probe_carries_the_full_session()
    {
        var icmp = IcmpError(Target, 3, 3, Probe(RealServer, 9, 0, series: EgressSeries.Control), quoteBytes: 1000, quotedTtl: 55);
        Assert.True(EgressAnswer.TryParse(icmp, 7, out var a));
        Assert.True(a.HasSession);
        Assert.Equal(Session.Value, a.Session);
        Assert.Equal((9, 0), (a.Ttl, a.Seq));
        Assert.Equal((3, 3), (a.Type, a.Code));
        Assert.Equal(IP(Target), a.From);
        Assert.Equal(IP(RealServer), a.ProbeSource);
        Assert.False(a.BelongsTo(new EgressSessionId(Session.Value ^ (1UL << 40))));
    }

    [Theory]
    [InlineData(3, 0)] [InlineData(3, 1)] [InlineData(3, 10)] [InlineData(3, 13)] [InlineData(11, 1)]
    public void Other_unreachables_and_time_exceeded_codes_match(byte type, byte code)
    {
        Assert.True(EgressAnswer.TryParse(IcmpError(Router, type, code, Probe(Vip, 2, 0)), 0, out var a));
        Assert.Equal((type, code), (a.Type, a.Code));
    }

    [Fact]
    public void Non_errors_and_damaged_messages_are_refused()
    {
        var good = IcmpError(Router, 11, 0, Probe(Vip, 2, 0));
        Assert.True(EgressAnswer.TryParse(good, 0, out _));

        // Echo reply, redirect, parameter problem: not answers.
        foreach (byte t in new byte[] { 0, 5, 8, 12 })
            Assert.False(EgressAnswer.TryParse(IcmpError(Router, t, 0, Probe(Vip, 2, 0)), 0, out _));

        var badIcmpSum = (byte[])good.Clone(); badIcmpSum[22] ^= 0x55;
        Assert.False(EgressAnswer.TryParse(badIcmpSum, 0, out _));
        var badIpSum = (byte[])good.Clone(); badIpSum[10] ^= 0x55;
        Assert.False(EgressAnswer.TryParse(badIpSum, 0, out _));
        var fragment = (byte[])good.Clone(); fragment[6] = 0x20; Refix(fragment);
        Assert.False(EgressAnswer.TryParse(fragment, 0, out _));
        var notIcmp = (byte[])good.Clone(); notIcmp[9] = 17; Refix(notIcmp);
        Assert.False(EgressAnswer.TryParse(notIcmp, 0, out _));
        // Truncated: every prefix shorter than header + ICMP header + quoted header + 8 is refused, none throws.
        for (int n = 0; n < good.Length; n++) Assert.False(EgressAnswer.TryParse(good.AsSpan(0, n), 0, out _));
        // Total length beyond the buffer.
        Assert.False(IcmpErrorV4.TryParse(good.AsSpan(0, good.Length - 1), out _));
    }

    [Fact]
    public void Quotes_that_are_not_TunLB_probes_are_refused()
    {
        // Not UDP.
        var tcp = Probe(Vip, 2, 0); tcp[9] = 6;
        Assert.False(EgressAnswer.TryParse(IcmpError(Router, 11, 0, tcp), 0, out _));
        // UDP to a port outside 33434..33689 (e.g. DNS).
        var dns = Probe(Vip, 2, 0); dns[22] = 0; dns[23] = 53;
        Assert.False(EgressAnswer.TryParse(IcmpError(Router, 11, 0, dns), 0, out _));
        // Payload quoted but without our magic (e.g. a plain traceroute's probe).
        var plain = Probe(Vip, 2, 0); plain[28] = 0;
        Assert.False(EgressAnswer.TryParse(IcmpError(Router, 11, 0, plain, quoteBytes: 100), 0, out _));
        // ... while the same with only 8 bytes quoted cannot be told apart and is accepted.
        Assert.True(EgressAnswer.TryParse(IcmpError(Router, 11, 0, plain, quoteBytes: 28), 0, out _));
        // Payload hop disagreeing with the port.
        var hop = Probe(Vip, 2, 0); hop[34] = 7;
        Assert.False(EgressAnswer.TryParse(IcmpError(Router, 11, 0, hop, quoteBytes: 100), 0, out _));
        // Payload session disagreeing with the quoted tag.
        var tag = Probe(Vip, 2, 0); tag[43] ^= 1;
        Assert.False(EgressAnswer.TryParse(IcmpError(Router, 11, 0, tag, quoteBytes: 100), 0, out _));
        // An error sent to someone other than the probe's source.
        Assert.False(EgressAnswer.TryParse(IcmpError(Router, 11, 0, Probe(Vip, 2, 0), to: "192.0.2.99"), 0, out _));
    }

    [Fact]
    public void Quoted_header_with_options_is_handled()
    {
        var probe = Probe(Vip, 4, 1);
        // Rebuild with a 24-byte header (one 4-byte NOP/EOL option word).
        var withOpt = new byte[probe.Length + 4];
        probe.AsSpan(0, 20).CopyTo(withOpt);
        withOpt[0] = 0x46;
        withOpt[20] = 1; withOpt[21] = 1; withOpt[22] = 1; withOpt[23] = 0;
        probe.AsSpan(20).CopyTo(withOpt.AsSpan(24));
        Assert.True(EgressAnswer.TryParse(IcmpError(Router, 11, 0, withOpt, quoteBytes: 32), 0, out var a));
        Assert.Equal((4, 1), (a.Ttl, a.Seq));
    }

    private static void Refix(byte[] p)
    {
        p[10] = 0; p[11] = 0;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(10), TunLB.Core.Packets.Checksum.Compute(p.AsSpan(0, 20)));
    }
}
