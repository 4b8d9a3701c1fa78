using System.Buffers.Binary;
using TunLB.Core.Egress;
using TunLB.Core.Flows;
using static TunLB.Core.Tests.Egress.EgressPacketsV6;

namespace TunLB.Core.Tests.Egress;

/// <summary>The egress check over IPv6: probe layout, ICMPv6 parsing and matching, the capture filter and the verdict.</summary>
public class EgressV6Tests
{
    private const string Router = "2001:db8:18::1";
    private static readonly EgressSessionId Session = EgressPackets.Session;

    [Fact]
    public void Probe_is_ipv6_udp_with_hop_limit_flow_label_ports_and_payload()
    {
        var p = Probe(Vip, 3, 1);
        Assert.Equal(6, p[0] >> 4);
        Assert.Equal(Session.IpId, BinaryPrimitives.ReadUInt32BigEndian(p) & 0xFFFFF);
        Assert.Equal(EgressProbe.UdpLength, BinaryPrimitives.ReadUInt16BigEndian(p.AsSpan(4)));
        Assert.Equal((17, 3), (p[6], p[7]));
        Assert.Equal(IP(Vip), IpAddress.FromV6Bytes(p.AsSpan(8)));
        Assert.Equal(IP(Target), IpAddress.FromV6Bytes(p.AsSpan(24)));
        Assert.Equal(Session.SourcePort, BinaryPrimitives.ReadUInt16BigEndian(p.AsSpan(40)));
        Assert.Equal(EgressProbe.Port(3, 1), BinaryPrimitives.ReadUInt16BigEndian(p.AsSpan(42)));
        Assert.Equal(EgressProbe.Magic, BinaryPrimitives.ReadUInt32BigEndian(p.AsSpan(48)));
        Assert.Equal(Session.Value, BinaryPrimitives.ReadUInt64BigEndian(p.AsSpan(56)));
        // UDP checksum over the IPv6 pseudo-header verifies to zero.
        var sum = TunLB.Core.Packets.Checksum.Add(TunLB.Core.Packets.Checksum.PseudoHeader(IP(Vip), IP(Target), 17, EgressProbe.UdpLength), p.AsSpan(40));
        Assert.Equal(0, TunLB.Core.Packets.Checksum.Finish(sum));
        Assert.Throws<ArgumentException>(() => EgressProbe.WriteV6(new byte[100], IP("192.0.2.1"), IP(Target), Session, 1, 0, EgressSeries.Vip));
    }

    [Fact]
    public void Time_exceeded_is_parsed_and_matched_with_the_full_session()
    {
        var icmp = IcmpError(Router, 3, 0, Probe(Vip, 2, 1));
        Assert.True(IcmpErrorV6.TryParse(icmp, out var e));
        Assert.Equal((IP(Router), IP(Vip), IP(Vip), IP(Target)), (e.From, e.To, e.QuotedSource, e.QuotedDestination));
        Assert.True(EgressAnswer.TryParse(icmp, 55, out var a));
        Assert.True(a.IsV6);
        Assert.True(a.HasSession);
        Assert.Equal(Session.Value, a.Session);
        Assert.Equal((2, 1), (a.Ttl, a.Seq));
        Assert.Equal((IP(Router), IP(Vip), IP(Target)), (a.From, a.ProbeSource, a.Target));
        Assert.Equal("time-exceeded", a.Describe());
        Assert.False(a.IsUnreachable);
        Assert.True(a.BelongsTo(Session));
        Assert.False(a.BelongsTo(new EgressSessionId(Session.Value ^ (1UL << 40))));
    }

    [Theory]
    [InlineData(4, "port-unreachable")] [InlineData(1, "admin-prohibited")] [InlineData(5, "source-policy-failed")] [InlineData(3, "address-unreachable")]
    public void Destination_unreachable_codes_are_named(byte code, string words)
    {
        Assert.True(EgressAnswer.TryParse(IcmpError(Target, 1, code, Probe(RealServer, 4, 0, series: EgressSeries.Control)), 0, out var a));
        Assert.True(a.IsUnreachable);
        Assert.Equal(words, a.Describe());
    }

    [Fact]
    public void Damaged_or_foreign_messages_are_refused()
    {
        var ok = IcmpError(Router, 3, 0, Probe(Vip, 2, 1));
        var bad = (byte[])ok.Clone(); bad[^1] ^= 1;                                   // checksum
        Assert.False(EgressAnswer.TryParse(bad, 0, out _));
        Assert.False(EgressAnswer.TryParse(IcmpError(Router, 128, 0, Probe(Vip, 2, 1)), 0, out _)); // echo request
        Assert.False(EgressAnswer.TryParse(IcmpError(Router, 3, 0, Probe(Vip, 2, 1), quoteBytes: 48), 0, out _)); // no payload quoted
        Assert.False(EgressAnswer.TryParse(IcmpError(Router, 3, 0, Probe(Vip, 2, 1), to: RealServer), 0, out _));  // not to the source
        var otherSport = Probe(Vip, 2, 1); otherSport[40] ^= 0x80;                    // source port not the session's
        Assert.False(EgressAnswer.TryParse(IcmpError(Router, 3, 0, otherSport), 0, out _));
        Assert.False(EgressAnswer.TryParse(ok.AsSpan(0, 60), 0, out _));
        Assert.True(EgressAnswer.TryParse(ok, 0, out _));
    }

    [Fact]
    public void Raw_socket_messages_without_the_ipv6_header_are_matched()
    {
        var full = IcmpError(Target, 1, 4, Probe(RealServer, 5, 0, series: EgressSeries.Control));
        var msg = full.AsSpan(40);
        Assert.True(IcmpErrorV6.TryParseMessage(msg, IP(Target), IP(RealServer), 0, out var e));
        Assert.True(EgressAnswer.TryMatch(msg, e, 1, out var a));
        Assert.Equal((5, IP(Target), IP(RealServer)), ((int)a.Ttl, a.From, a.ProbeSource));
    }

    [Fact]
    public void Recorder_takes_ipv6_answers()
    {
        var r = new EgressAnswerRecorder(16);
        Assert.True(r.TryRecord(IcmpError(Router, 3, 0, Probe(Vip, 1, 0)), 5));
        Assert.False(r.TryRecord(Probe(Vip, 1, 0), 6));
        Assert.Equal(IP(Router), Assert.Single(r.GetAnswers(Session)).From);
    }

    [Fact]
    public void Bpf_accepts_icmpv6_to_the_vip_only()
    {
        var prog = EgressBpf.Icmp6To(IP(Vip));
        var ok = IcmpError(Router, 3, 0, Probe(Vip, 1, 0));
        Assert.Equal(EgressBpf.SnapLength, EgressBpfTests.Run(prog, ok));
        Assert.Equal(0u, EgressBpfTests.Run(prog, ok, pktType: EgressBpf.PACKET_OUTGOING));
        Assert.Equal(0u, EgressBpfTests.Run(prog, IcmpError(Router, 3, 0, Probe(RealServer, 1, 0))));   // to another address
        Assert.Equal(0u, EgressBpfTests.Run(prog, Probe(Vip, 1, 0)));                                     // UDP
        var lastWord = (byte[])ok.Clone(); lastWord[39] ^= 1;                                              // differs in the last byte only
        Assert.Equal(0u, EgressBpfTests.Run(prog, lastWord));
        var v4 = (byte[])ok.Clone(); v4[0] = 0x45;
        Assert.Equal(0u, EgressBpfTests.Run(prog, v4));
        Assert.Equal(0u, EgressBpfTests.Run(prog, ok.AsSpan(0, 30)));
        for (int pc = 0; pc < prog.Length; pc++)
            if ((prog[pc].Code & 0x07) == EgressBpf.BPF_JMP)
                Assert.InRange(pc + 1 + Math.Max(prog[pc].Jt, prog[pc].Jf), 0, prog.Length - 1);
    }

    private static EgressAnswer Answer(string source, int ttl, string from, byte type = 3, byte code = 0) => new()
    {
        Tag = Session.Tag, Session = Session.Value, HasSession = true, Ttl = (byte)ttl, Type = type, Code = code,
        From = IP(from), ProbeSource = IP(source), Target = IP(Target), TimeMs = ttl,
    };

    private static readonly string[] Routers = ["2001:db8:1::1", "2001:db8:18::2", "2001:db8:20::2"];

    private static IEnumerable<EgressAnswer> Series(string source, int reach)
    {
        for (int ttl = 1; ttl <= Math.Min(reach, 3); ttl++) yield return Answer(source, ttl, Routers[ttl - 1]);
        if (reach >= 4) yield return Answer(source, 4, Target, 1, 4);
    }

    [Fact]
    public void Verdicts_are_the_same_for_ipv6()
    {
        var allowed = EgressVerdict.Decide(IP(Vip), IP(RealServer), IP(Target), Series(Vip, 9).Concat(Series(RealServer, 9)));
        Assert.Equal((EgressVerdictKind.Allowed, 4), (allowed.Kind, allowed.Hops));

        var edge = EgressVerdict.Decide(IP(Vip), IP(RealServer), IP(Target), Series(RealServer, 9));
        Assert.Equal((EgressVerdictKind.Blocked, 1, IP(Routers[0])), (edge.Kind, edge.BlockingHop, edge.BlockingRouter));

        var silent = EgressVerdict.Decide(IP(Vip), IP(RealServer), IP(Target), Series(Vip, 3).Concat(Series(RealServer, 3)));
        Assert.Equal(EgressVerdictKind.Inconclusive, silent.Kind);
        Assert.Contains("never answered", silent.Reason);

        var refused = EgressVerdict.Decide(IP(Vip), IP(RealServer), IP(Target), Series(RealServer, 2).Append(Answer(RealServer, 3, Routers[2], 1, 5)));
        Assert.Equal(EgressVerdictKind.Inconclusive, refused.Kind);
        Assert.Contains("source-policy-failed from 2001:db8:20::2", refused.Reason);
    }
}
