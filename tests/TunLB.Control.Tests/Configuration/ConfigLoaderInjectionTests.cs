using TunLB.Control.Configuration;

namespace TunLB.Control.Tests.Configuration;

/// <summary>[realserver] napi and rps: how the agent's TUN device hands injected packets to the stack.</summary>
public class ConfigLoaderInjectionTests
{
    private const string Rs = "[realserver]\nvips = [\"203.0.113.10\"]\ndirectors = [\"203.0.113.2\"]\n";

    [Fact]
    public void Napi_defaults_to_threaded_and_rps_to_off()
    {
        var c = ConfigLoader.ParseRealServer(Rs, "rs.toml");
        Assert.Equal((NapiMode.Off, RpsMode.Off), (c.Napi, c.Rps));
    }

    [Theory]
    [InlineData("napi = \"threaded\"", NapiMode.Threaded)]
    [InlineData("napi = \"off\"", NapiMode.Off)]
    public void Napi_is_read(string line, NapiMode expected) =>
        Assert.Equal(expected, ConfigLoader.ParseRealServer(Rs + line + "\n", "rs.toml").Napi);

    [Theory]
    [InlineData("rps = \"auto\"", RpsMode.Auto)]
    [InlineData("rps = \"off\"", RpsMode.Off)]
    public void Rps_is_read(string line, RpsMode expected) =>
        Assert.Equal(expected, ConfigLoader.ParseRealServer(Rs + line + "\n", "rs.toml").Rps);

    [Theory]
    [InlineData("rps = \"on\"", "\"auto\" or \"off\"")]
    [InlineData("rps = 3", "\"auto\" or \"off\"")]
    [InlineData("rps = true", "\"auto\" or \"off\"")]
    [InlineData("napi = \"on\"", "\"threaded\" or \"off\"")]
    [InlineData("napi = false", "\"threaded\" or \"off\"")]
    public void Other_values_are_reported_with_their_key(string line, string expected)
    {
        var e = Assert.Single(Assert.Throws<ConfigException>(() => ConfigLoader.ParseRealServer(Rs + line + "\n", "rs.toml")).Errors);
        Assert.Equal("realserver." + line[..line.IndexOf(' ')], e.Key);
        Assert.Contains(expected, e.Message);
        Assert.Equal(4, e.Line);
    }
}
