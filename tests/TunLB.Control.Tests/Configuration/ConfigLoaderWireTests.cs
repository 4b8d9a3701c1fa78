using TunLB.Control.Configuration;
using TunLB.Core.Flows;
using TunLB.Core.Packets;

namespace TunLB.Control.Tests.Configuration;

/// <summary>Keys for ICMP, path MTU, fragments, GUE, MSS clamping and mixed address families.</summary>
public class ConfigLoaderWireTests
{
    private static DirectorConfig Director(string toml) => ConfigLoader.ParseDirector(toml, "d.toml");
    private static RealServerConfig RealServer(string toml) => ConfigLoader.ParseRealServer(toml, "rs.toml");

    private static IReadOnlyList<ConfigError> DirectorErrors(string toml) =>
        Assert.Throws<ConfigException>(() => ConfigLoader.ParseDirector(toml, "d.toml")).Errors;

    private static IReadOnlyList<ConfigError> RealServerErrors(string toml) =>
        Assert.Throws<ConfigException>(() => ConfigLoader.ParseRealServer(toml, "rs.toml")).Errors;

    private const string Svc = "[[service]]\nvip = \"203.0.113.10\"\nport = 80\n[[service.real]]\naddress = \"192.0.2.11\"\n";

    [Fact]
    public void Director_defaults()
    {
        var c = Director(Svc);
        Assert.True(c.Director.AnswerPing);
        Assert.Equal(100, c.Director.IcmpRate);
        Assert.Equal(50, c.Director.IcmpBurst);
        Assert.Equal(16384, c.Director.FragMax);
        var r = c.Services[0].Reals[0];
        Assert.Equal((0, EncapKind.Ipip, 6080, false), (r.Mtu, r.Encap, r.GuePort, r.GueChecksum));
    }

    [Fact]
    public void Director_keys_are_read()
    {
        var c = Director("[director]\nanswer_ping = false\nicmp_rate = 10\nicmp_burst = 5\nfrag_max = 1000\n" + Svc +
                         "mtu = 1400\nencap = \"gue\"\ngue_port = 7000\ngue_checksum = true\n");
        Assert.False(c.Director.AnswerPing);
        Assert.Equal((10, 5, 1000), (c.Director.IcmpRate, c.Director.IcmpBurst, c.Director.FragMax));
        var r = c.Services[0].Reals[0];
        Assert.Equal((1400, EncapKind.Gue, 7000, true), (r.Mtu, r.Encap, r.GuePort, r.GueChecksum));
    }

    [Theory]
    [InlineData("mtu = 500", "service[0].real[0].mtu", "too small")]
    [InlineData("mtu = 70000", "service[0].real[0].mtu", "out of range")]
    [InlineData("encap = \"gre\"", "service[0].real[0].encap", "ipip")]
    [InlineData("gue_port = 7000", "service[0].real[0].gue_port", "only applies")]
    [InlineData("encap = \"gue\"\ngue_port = 0", "service[0].real[0].gue_port", "out of range")]
    public void Bad_real_keys_are_reported(string line, string key, string text)
    {
        var e = Assert.Single(DirectorErrors(Svc + line + "\n"));
        Assert.Equal(key, e.Key);
        Assert.Contains(text, e.Message);
    }

    [Fact]
    public void Ipv6_real_server_needs_an_mtu_of_at_least_1280()
    {
        var e = Assert.Single(DirectorErrors(Svc.Replace("192.0.2.11", "2001:db8::11") + "mtu = 1000\n"));
        Assert.Contains("1280", e.Message);
        Assert.Equal(1280, Director(Svc.Replace("192.0.2.11", "2001:db8::11") + "mtu = 1280\n").Services[0].Reals[0].Mtu);
    }

    [Theory]
    [InlineData("icmp_rate = 0")]
    [InlineData("icmp_burst = 0")]
    [InlineData("frag_max = 2")]
    [InlineData("answer_ping = \"yes\"")]
    public void Bad_director_keys_are_reported(string line)
    {
        var e = Assert.Single(DirectorErrors("[director]\n" + line + "\n" + Svc));
        Assert.Equal("director." + line[..line.IndexOf(' ')], e.Key);
    }

    [Fact]
    public void Families_may_be_mixed_in_a_service()
    {
        var c = Director("[[service]]\nvip = \"203.0.113.10\"\nport = 80\n[[service.real]]\naddress = \"2001:db8::11\"\n" +
                         "[[service]]\nvip = \"2001:db8::10\"\nport = 80\n[[service.real]]\naddress = \"192.0.2.11\"\n[[service.real]]\naddress = \"2001:db8::12\"\n");
        Assert.Equal(IpAddress.Parse("2001:db8::11"), c.Services[0].Reals[0].Address);
        Assert.Equal(2, c.Services[1].Reals.Count);
        Assert.Equal(128, c.Services[1].PersistencePrefix);
    }

    private const string Rs = "[realserver]\nvips = [\"203.0.113.10\", \"2001:db8::10\"]\ndirectors = [\"203.0.113.2\", \"2001:db8::2\"]\n";

    [Fact]
    public void Real_server_takes_mixed_families_and_defaults_gue_off()
    {
        var c = RealServer(Rs);
        Assert.Equal(2, c.Vips.Count);
        Assert.Equal(2, c.Directors.Count);
        Assert.False(c.Gue);
        Assert.Equal(6080, c.GuePort);
        Assert.Equal(0, c.MssClamp);
    }

    [Theory]
    [InlineData("gue = true\ngue_port = 7000\nmss_clamp = 1360", true, 7000, 1360)]
    [InlineData("mss_clamp = \"auto\"", false, 6080, RealServerConfig.MssClampAuto)]
    [InlineData("mss_clamp = 0", false, 6080, 0)]
    public void Real_server_keys_are_read(string lines, bool gue, int port, int mss)
    {
        var c = RealServer(Rs + lines + "\n");
        Assert.Equal((gue, port, mss), (c.Gue, c.GuePort, c.MssClamp));
    }

    [Theory]
    [InlineData("", "", "", 0)]
    [InlineData("metrics = \"127.0.0.1:9403\"", "127.0.0.1:9403", "127.0.0.1", 9403)]
    [InlineData("metrics = \"[::1]:9403\"", "[::1]:9403", "::1", 9403)]
    public void The_agent_metrics_address_is_read(string line, string metrics, string host, int port)
    {
        var c = RealServer(Rs + line + "\n");
        Assert.Equal((metrics, host, port), (c.Metrics, c.MetricsHost, c.MetricsPort));
    }

    [Theory]
    [InlineData("mss_clamp = 100", "out of range")]
    [InlineData("mss_clamp = \"max\"", "auto")]
    [InlineData("gue_port = 70000", "out of range")]
    [InlineData("gue = 1", "boolean")]
    [InlineData("metrics = \"localhost:9403\"", "IP address")]
    [InlineData("metrics = \"127.0.0.1\"", "port")]
    public void Bad_real_server_keys_are_reported(string line, string text)
    {
        var e = Assert.Single(RealServerErrors(Rs + line + "\n"));
        Assert.Equal("realserver." + line[..line.IndexOf(' ')], e.Key);
        Assert.Contains(text, e.Message, StringComparison.OrdinalIgnoreCase);
    }
}
