using TunLB.Core.Flows;
using TunLB.Core.Packets;

namespace TunLB.Core.Tests.Packets;

public class PacketParserFixtureTests
{
    [Theory]
    [MemberData(nameof(Fixtures.AllNames), MemberType = typeof(Fixtures))]
    public void Verdict_matches_fixture(string name)
    {
        var f = Fixtures.Packet(name);
        var r = PacketParser.ParseIPv4(f.Input, out _);
        Assert.Equal(f.ExpectedReason, r);
    }

    [Theory]
    [MemberData(nameof(Fixtures.AllNames), MemberType = typeof(Fixtures))]
    public void Parsed_fields_match_fixture(string name)
    {
        var f = Fixtures.Packet(name);
        PacketParser.ParseIPv4(f.Input, out var info);
        var e = f.Expect;

        // Drop fixtures list only the fields that are meaningful for them; valid ones list all.
        if (e.TryGetProperty("src", out var src)) Assert.Equal(IpAddress.Parse(src.GetString()!), info.Flow.Source);
        if (e.TryGetProperty("dst", out var dst)) Assert.Equal(IpAddress.Parse(dst.GetString()!), info.Flow.Destination);
        if (e.TryGetProperty("protocol", out var proto)) Assert.Equal(proto.GetInt32(), info.Flow.Protocol);
        if (e.TryGetProperty("sport", out var sport)) Assert.Equal(sport.GetInt32(), info.Flow.SourcePort);
        if (e.TryGetProperty("dport", out var dport)) Assert.Equal(dport.GetInt32(), info.Flow.DestinationPort);
        if (e.TryGetProperty("tcp_flags", out var tf)) Assert.Equal(tf.GetInt32(), info.TcpFlags);
        if (e.TryGetProperty("tos", out var tos)) Assert.Equal(tos.GetInt32(), info.Tos);
        if (e.TryGetProperty("ttl", out var ttl)) Assert.Equal(ttl.GetInt32(), info.Ttl);
        if (e.TryGetProperty("id", out var id)) Assert.Equal(id.GetInt32(), info.Identification);
        if (e.TryGetProperty("df", out var df)) Assert.Equal(df.GetBoolean(), info.DontFragment);
        if (e.TryGetProperty("first_fragment", out var ff)) Assert.Equal(ff.GetBoolean(), info.IsFirstFragment);
        if (e.TryGetProperty("header_length", out var hl)) Assert.Equal(hl.GetInt32(), info.HeaderLength);
        if (e.TryGetProperty("total_length", out var tl)) Assert.Equal(tl.GetInt32(), info.TotalLength);
        Assert.False(info.IsV6);
    }

    [Fact]
    public void Valid_fixtures_assert_every_field()
    {
        string[] fields = ["src", "dst", "protocol", "sport", "dport", "tcp_flags", "tos", "ttl", "id", "df", "first_fragment", "header_length", "total_length"];
        foreach (var f in Fixtures.Packets.Where(p => p.IsOk))
            foreach (var field in fields)
                Assert.True(f.Expect.TryGetProperty(field, out _), $"{f.Name} lacks {field}");
    }

    [Fact]
    public void Every_prefix_of_a_valid_packet_is_rejected_without_throwing()
    {
        foreach (var f in Fixtures.Packets.Where(p => p.IsOk))
        {
            int total = f.Expect.GetProperty("total_length").GetInt32();
            for (int n = 0; n < total; n++)
            {
                var r = PacketParser.ParseIPv4(f.Input.AsSpan(0, n), out _);
                Assert.True(r is DropReason.Truncated or DropReason.BadTotalLength, $"{f.Name}[..{n}] gave {r}");
            }
        }
    }
}
