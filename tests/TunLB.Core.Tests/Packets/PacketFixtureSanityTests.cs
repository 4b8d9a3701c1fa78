using TunLB.Core.Packets;

namespace TunLB.Core.Tests.Packets;

/// <summary>Guards the fixture file itself so a broken regeneration cannot silently empty the fixture-driven tests.</summary>
public class PacketFixtureSanityTests
{
    [Fact]
    public void Fixtures_cover_every_required_kind()
    {
        var names = Fixtures.Packets.Select(p => p.Name).ToHashSet();
        Assert.True(Fixtures.Packets.Count >= 25, $"only {Fixtures.Packets.Count} fixtures");
        Assert.Equal(names.Count, Fixtures.Packets.Count); // unique names
        var verdicts = Fixtures.Packets.Select(p => p.Verdict).ToHashSet();
        foreach (var v in new[] { "ok", "truncated", "bad_version", "bad_header_length", "bad_total_length", "bad_checksum", "fragment", "unsupported_protocol" })
            Assert.Contains(v, verdicts);
        Assert.True(Fixtures.Packets.Count(p => p.Output is not null) >= 10);
        Assert.Contains(Fixtures.Packets, p => p.IsOk && p.Input[1] == 0xb8);           // TOS 0xb8
        Assert.Contains(Fixtures.Packets, p => p.IsOk && (p.Input[0] & 0x0F) == 6);     // IHL 6
        Assert.Contains(Fixtures.Packets, p => p.IsOk && (p.Input[6] & 0x40) != 0);     // DF set
        Assert.Contains(Fixtures.Packets, p => p.IsOk && (p.Input[6] & 0x40) == 0);     // DF clear
        Assert.Contains(Fixtures.Packets, p => p.IsOk && p.Expect.GetProperty("first_fragment").GetBoolean());
        foreach (byte flag in new[] { TcpFlags.Syn, TcpFlags.Ack, TcpFlags.Fin, TcpFlags.Rst })
            Assert.Contains(Fixtures.Packets, p => p.IsOk && p.Input[9] == IpProtocol.Tcp && (p.Expect.GetProperty("tcp_flags").GetInt32() & flag) != 0);
        Assert.Contains(Fixtures.Packets, p => p.IsOk && p.Input[9] == IpProtocol.Udp);
    }

    [Fact]
    public void Every_verdict_name_is_a_known_drop_reason()
    {
        foreach (var p in Fixtures.Packets) _ = p.ExpectedReason;
        foreach (var c in Fixtures.DecapCases)
            Assert.True(c.Verdict == "ok" || DropReasons.Names.Contains(c.Verdict), c.Name);
    }

    [Fact]
    public void Generator_is_committed_next_to_the_json()
    {
        Assert.True(File.Exists(Path.Combine(Fixtures.Directory, "gen_packets.py")));
        Assert.True(File.Exists(Path.Combine(Fixtures.Directory, "decap.json")));
    }
}
