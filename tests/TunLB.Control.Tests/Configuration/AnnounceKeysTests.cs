using TunLB.Control.Configuration;

namespace TunLB.Control.Tests.Configuration;

/// <summary>announce, announce_table and withdraw_grace (docs/multi-director.md).</summary>
public sealed class AnnounceKeysTests
{
    private static DirectorSettings Read(string body) => ConfigLoader.ParseDirector("[director]\n" + body, "d.toml").Director;

    private static ConfigError Error(string body) =>
        Assert.Single(Assert.Throws<ConfigException>(() => ConfigLoader.ParseDirector("[director]\n" + body, "d.toml")).Errors);

    [Fact]
    public void Defaults_are_off_table_100_and_five_seconds()
    {
        var d = DirectorSettings.Defaults;
        Assert.Equal((false, 100, 5, false), (d.Announce, d.AnnounceTable, d.WithdrawGrace, d.EffectiveSloppyTcp));
    }

    [Fact]
    public void Announce_turns_sloppy_tcp_on()
    {
        Assert.True(Read("announce = true\n").EffectiveSloppyTcp);
        Assert.True(Read("announce = true\nsloppy_tcp = false\n").EffectiveSloppyTcp);
        Assert.True(Read("sloppy_tcp = true\n").EffectiveSloppyTcp);
    }

    [Theory]
    [InlineData(253)]
    [InlineData(254)]
    [InlineData(255)]
    public void The_kernels_own_tables_are_refused(int table)
    {
        var e = Error($"announce_table = {table}\n");
        Assert.Equal(("director.announce_table", 2), (e.Key, e.Line));
        Assert.Contains("254 main", e.Message);
    }

    [Theory]
    [InlineData("announce_table = 0", "director.announce_table")]
    [InlineData("announce_table = 2147483648", "director.announce_table")]
    [InlineData("withdraw_grace = -1", "director.withdraw_grace")]
    [InlineData("withdraw_grace = 3601", "director.withdraw_grace")]
    [InlineData("announce = \"yes\"", "director.announce")]
    public void Out_of_range_values_name_the_key(string line, string key) => Assert.Equal(key, Error(line + "\n").Key);

    [Fact]
    public void A_table_and_a_grace_are_read() =>
        Assert.Equal((252, 0), (Read("announce_table = 252\nwithdraw_grace = 0\n").AnnounceTable, Read("announce_table = 252\nwithdraw_grace = 0\n").WithdrawGrace));
}
