using TunLB.Control.Configuration;

namespace TunLB.Control.Tests.Configuration;

/// <summary>[realserver] napi, rps and decap: how the agent's TUN device hands injected packets to the stack, or XDP instead.</summary>
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

    [Fact]
    public void Decap_defaults_to_the_agent_and_reads_xdp_with_its_devices()
    {
        var c = ConfigLoader.ParseRealServer(Rs, "rs.toml");
        Assert.Equal(DecapMode.Agent, c.Decap);
        Assert.Empty(c.XdpDevices);
        c = ConfigLoader.ParseRealServer(Rs + "decap = \"xdp\"\nxdp_devices = [\"eth0\", \"bond0.7\"]\n", "rs.toml");
        Assert.Equal(DecapMode.Xdp, c.Decap);
        Assert.Equal(["eth0", "bond0.7"], c.XdpDevices);
        var e = Assert.Single(Assert.Throws<ConfigException>(() =>
            ConfigLoader.ParseRealServer(Rs + "decap = \"xdp\"\nxdp_devices = [\"eth0\", \"eth0\"]\n", "rs.toml")).Errors);
        Assert.Equal(("realserver.xdp_devices", 5), (e.Key, e.Line));
        Assert.Contains("listed twice", e.Message);
    }

    [Theory]
    [InlineData("rps = \"on\"", "\"auto\" or \"off\"")]
    [InlineData("rps = 3", "\"auto\" or \"off\"")]
    [InlineData("rps = true", "\"auto\" or \"off\"")]
    [InlineData("napi = \"on\"", "\"threaded\" or \"off\"")]
    [InlineData("napi = false", "\"threaded\" or \"off\"")]
    [InlineData("decap = \"kernel\"", "\"agent\" or \"xdp\"")]
    [InlineData("decap = 1", "\"agent\" or \"xdp\"")]
    [InlineData("xdp_devices = \"eth0\"", "an array of interface names")]
    [InlineData("xdp_devices = [\"eth0\"]", "xdp_devices needs decap = \"xdp\"")]
    public void Other_values_are_reported_with_their_key(string line, string expected)
    {
        var e = Assert.Single(Assert.Throws<ConfigException>(() => ConfigLoader.ParseRealServer(Rs + line + "\n", "rs.toml")).Errors);
        Assert.Equal("realserver." + line[..line.IndexOf(' ')], e.Key);
        Assert.Contains(expected, e.Message);
        Assert.Equal(4, e.Line);
    }
}
