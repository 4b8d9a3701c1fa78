using TunLB.Control.Configuration;
using TunLB.Core.Flows;

namespace TunLB.Control.Tests.Configuration;

public class ConfigLoaderRealServerTests
{
    private const string Example = """
        # realserver.toml
        [realserver]
        vips = ["203.0.113.10"]
        directors = ["203.0.113.2"]
        tun_name = "tunlb-rs0"      # decap TUN device name
        """;

    private static ConfigError Single(string toml) =>
        Assert.Single(Assert.Throws<ConfigException>(() => ConfigLoader.ParseRealServer(toml, "rs.toml")).Errors);

    [Fact]
    public void Example_parses()
    {
        var c = ConfigLoader.ParseRealServer(Example, "rs.toml");
        Assert.Equal([IpAddress.Parse("203.0.113.10")], c.Vips);
        Assert.Equal([IpAddress.Parse("203.0.113.2")], c.Directors);
        Assert.Equal("tunlb-rs0", c.TunName);
        Assert.Equal("rs.toml", c.SourcePath);
    }

    [Fact]
    public void Tun_name_defaults()
    {
        var c = ConfigLoader.ParseRealServer("[realserver]\nvips = [\"203.0.113.10\", \"203.0.113.11\"]\ndirectors = [\"203.0.113.2\"]\n", "rs.toml");
        Assert.Equal("tunlb-rs0", c.TunName);
        Assert.Equal(2, c.Vips.Count);
    }

    [Fact]
    public void Missing_table_is_reported()
    {
        var e = Single("# nothing\n");
        Assert.Equal(("realserver", 1), (e.Key, e.Line));
        Assert.Contains("[realserver]", e.Message);
    }

    [Fact]
    public void Director_config_given_to_the_real_server_loader_is_explained()
    {
        var ex = Assert.Throws<ConfigException>(() => ConfigLoader.ParseRealServer(
            "[director]\nttl = 64\n", "rs.toml"));
        Assert.Contains(ex.Errors, e => e.Key == "director" && e.Message.Contains("director config"));
        Assert.Contains(ex.Errors, e => e.Key == "realserver");
    }

    [Theory]
    [InlineData("vips = []", "realserver.vips", 2)]
    [InlineData("vips = \"203.0.113.10\"", "realserver.vips", 2)]
    [InlineData("vips = [\"203.0.113.10\", \"nope\"]", "realserver.vips[1]", 2)]
    [InlineData("vips = [\"203.0.113.10\", 7]", "realserver.vips[1]", 2)]
    [InlineData("vips = [\"203.0.113.10\", \"203.0.113.10\"]", "realserver.vips[1]", 2)]
    public void Bad_vips_are_reported(string line, string key, int lineNo)
    {
        var e = Single($"[realserver]\n{line}\ndirectors = [\"203.0.113.2\"]\n");
        Assert.Equal((key, lineNo), (e.Key, e.Line));
    }

    [Fact]
    public void Duplicate_address_names_the_first()
    {
        var e = Single("[realserver]\nvips = [\"203.0.113.10\"]\ndirectors = [\n  \"203.0.113.2\",\n  \"203.0.113.2\",\n]\n");
        Assert.Equal(("realserver.directors[1]", 5, 3), (e.Key, e.Line, e.Column));
        Assert.Contains("already realserver.directors[0]", e.Message);
    }

    [Fact]
    public void Missing_lists_and_bad_tun_name_are_reported_together()
    {
        var ex = Assert.Throws<ConfigException>(() => ConfigLoader.ParseRealServer(
            "\n[realserver]\ntun_name = \"a-name-far-too-long\"\nvip = [\"203.0.113.10\"]\n", "rs.toml"));
        Assert.Equal(
            [(2, "realserver.vips"), (2, "realserver.directors"), (3, "realserver.tun_name"), (4, "realserver.vip")],
            ex.Errors.Select(e => (e.Line, e.Key)));
        Assert.Contains("did you mean \"vips\"", ex.Errors[3].Message);
    }

    [Fact]
    public void Ipv6_only_real_server_is_accepted()
    {
        var c = ConfigLoader.ParseRealServer("[realserver]\nvips = [\"2001:db8::10\"]\ndirectors = [\"2001:db8::2\"]\n", "rs.toml");
        Assert.False(c.Vips[0].IsV4);
    }

    [Fact]
    public void Missing_file_gives_a_clear_error()
    {
        var path = Path.Combine(Path.GetTempPath(), $"tunlb-missing-{Guid.NewGuid():N}.toml");
        var e = Assert.Single(Assert.Throws<ConfigException>(() => ConfigLoader.LoadRealServer(path)).Errors);
        Assert.Equal($"{path}: cannot read configuration file: file not found", e.ToString());
    }
}
