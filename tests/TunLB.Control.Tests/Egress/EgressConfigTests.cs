using TunLB.Control.Configuration;
using TunLB.Core.Flows;

namespace TunLB.Control.Tests.Egress;

/// <summary>The site/provider keys of a real server and the [egress] schedule of realserver.toml.</summary>
public class EgressConfigTests
{
    private const string Director = """
        [director]
        api = "127.0.0.1:9400"

        [[service]]
        vip = "203.0.113.10"
        port = 80
        protocol = "tcp"

        [[service.real]]
        address = "192.0.2.11"
        site = " fra1 "
        provider = "Hetzner"

        [[service.real]]
        address = "192.0.2.12"
        """;

    [Fact]
    public void Site_and_provider_are_read_trimmed_and_optional()
    {
        var cfg = ConfigLoader.ParseDirector(Director, "d.toml");
        var reals = cfg.Services[0].Reals;
        Assert.Equal(("fra1", "Hetzner"), (reals[0].Site, reals[0].Provider));
        Assert.Equal(("fra1", "Hetzner"), (reals[0].Settings().Site, reals[0].Settings().Provider));
        Assert.Null(reals[1].Site);
        Assert.Null(reals[1].Provider);
    }

    [Fact]
    public void Bad_site_or_provider_is_an_error_naming_the_key()
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.ParseDirector(
            Director.Replace("site = \" fra1 \"", "site = \"\"").Replace("provider = \"Hetzner\"", $"provider = \"{new string('x', 65)}\""), "d.toml"));
        Assert.Contains(e.Errors, x => x.Key.EndsWith("site") && x.Message.Contains("1..64"));
        Assert.Contains(e.Errors, x => x.Key.EndsWith("provider") && x.Message.Contains("1..64"));
        var api = RealServerRules.Check(new RealServerFields { Address = "192.0.2.1", Site = "dc\u0001" }, 80, RealServerFieldNames.Api);
        Assert.Contains(api.Errors, x => x.Field == "site");
    }

    private const string Rs = """
        [realserver]
        vips = ["203.0.113.10", "2001:db8:10::10"]
        directors = ["192.0.2.1"]
        """;

    [Fact]
    public void Egress_schedule_is_off_without_the_table_and_read_with_defaults()
    {
        Assert.Null(ConfigLoader.ParseRealServer(Rs, "rs.toml").Egress);
        var e = ConfigLoader.ParseRealServer(Rs + """

            [egress]
            interval = 3600
            target = "2001:db8:100::10"
            director = "http://[2001:db8:113::2]:9400"
            token = "t"
            """, "rs.toml").Egress!;
        Assert.Equal(3600, e.IntervalSeconds);
        Assert.Equal(IpAddress.Parse("2001:db8:10::10"), e.Vip); // the VIP of the target's family
        Assert.Equal((16, 5.0), (e.MaxHops, e.Rate));
        Assert.Null(e.Address);
    }

    [Fact]
    public void Egress_schedule_errors_are_all_reported()
    {
        var ex = Assert.Throws<ConfigException>(() => ConfigLoader.ParseRealServer(Rs + """

            [egress]
            interval = 60
            target = "198.51.100.10"
            director = "ftp://x"
            vip = "203.0.113.99"
            rate = 500
            colour = "blue"
            """, "rs.toml"));
        var keys = ex.Errors.Select(x => x.Key).ToList();
        Assert.Contains("egress.interval", keys);  // below 300 s
        Assert.Contains("egress.director", keys);
        Assert.Contains("egress.vip", keys);       // not one of realserver.vips
        Assert.Contains("egress.rate", keys);
        Assert.Contains(ex.Errors, x => x.Key.Contains("colour"));
        var missing = Assert.Throws<ConfigException>(() => ConfigLoader.ParseRealServer(Rs + "\n[egress]\ninterval = 600\n", "rs.toml"));
        Assert.Contains(missing.Errors, x => x.Message.Contains("egress.target is required"));
        Assert.Contains(missing.Errors, x => x.Message.Contains("egress.director"));
    }
}
