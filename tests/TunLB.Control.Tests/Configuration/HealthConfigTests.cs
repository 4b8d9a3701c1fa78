using TunLB.Control.Configuration;
using TunLB.Health;
using TunLB.Core.Flows;

namespace TunLB.Control.Tests.Configuration;

public sealed class HealthConfigTests
{
    private const string Head = """
        [director]
        check_port_range = "62000-62099"

        [[service]]
        vip = "203.0.113.10"
        port = 80
        quorum = 2
        hysteresis = 1
        quorum_up = "logger up"
        quorum_down = "logger down"

        [service.check]
        type = "http"
        path = "/healthz"
        expect_status = "200-299"
        expect_body = "ok"
        host = "www.example"
        interval = 0.5
        timeout = 0.25
        rise = 3
        fall = 2
        alpha = true
        on_failure = "inhibit"
        dampening = { penalty = 500, suppress = 2000, reuse = 700, half_life = 30 }

        [service.sorry]
        address = "192.0.2.200"
        port = 8080

        [[service.real]]
        address = "192.0.2.11"

        [[service.real]]
        address = "192.0.2.12"
        weight = 3
        [service.real.check]
        port = 8080
        via = "direct"
        """;

    [Fact]
    public void ReadsServiceChecksPerRealOverridesSorryAndQuorum()
    {
        var cfg = ConfigLoader.ParseDirector(Head, "d.toml");
        Assert.Equal(62000, cfg.Director.CheckPortFirst);
        Assert.Equal(62099, cfg.Director.CheckPortLast);
        var h = cfg.Services[0].Health;
        Assert.Equal(2, h.Quorum);
        Assert.Equal(1, h.Hysteresis);
        Assert.Equal("logger up", h.QuorumUp);
        Assert.Equal(new SorrySpec(IpAddress.Parse("192.0.2.200"), 8080, 1), h.Sorry);
        var c = h.Check;
        Assert.Equal(("http", "/healthz", "200-299", "ok", "www.example"), (c.Type, c.Path, c.ExpectStatus, c.ExpectBody, c.Host));
        Assert.Equal((0.5, 0.25, 3, 2, true, FailureAction.Inhibit), (c.IntervalSeconds, c.TimeoutSeconds, c.Rise, c.Fall, c.Alpha, c.OnFailure));
        Assert.Equal(new DampeningSpec(500, 2000, 700, 30), c.Dampening);
        Assert.Equal("tunnel", c.Via);
        var r1 = h.CheckFor(IpAddress.Parse("192.0.2.11"));
        Assert.Same(c, r1);
        var r2 = h.CheckFor(IpAddress.Parse("192.0.2.12"));
        Assert.Equal((8080, "direct", "http", "/healthz", 3), (r2.Port, r2.Via, r2.Type, r2.Path, r2.Rise)); // inherits the rest
    }

    [Fact]
    public void DefaultsAreNoCheckAndKeepalivedQuorum()
    {
        var cfg = ConfigLoader.ParseDirector("[[service]]\nvip = \"203.0.113.10\"\nport = 80\n[[service.real]]\naddress = \"192.0.2.11\"\n", "d.toml");
        var h = cfg.Services[0].Health;
        Assert.False(h.Check.Enabled);
        Assert.Equal((1, 0, null), (h.Quorum, h.Hysteresis, h.Sorry));
        Assert.Equal("61000-61999", cfg.Director.CheckPortRange);
        var spec = new CheckSpec { Type = "tcp" };
        Assert.Equal((2.0, 1.0, 2, 2, false, "tunnel", FailureAction.Remove), (spec.IntervalSeconds, spec.TimeoutSeconds, spec.Rise, spec.Fall, spec.Alpha, spec.Via, spec.OnFailure));
    }

    [Fact]
    public void EveryBadKeyIsReportedWithItsLine()
    {
        const string bad = """
            [director]
            check_port_range = "80-90"

            [[service]]
            vip = "203.0.113.10"
            port = 80
            quorum = 1
            hysteresis = 1

            [service.check]
            type = "htp"
            expect_status = "abc"
            interval = 0
            rise = 0
            via = "tunel"
            on_failure = "explode"
            colour = "blue"
            path = "healthz"
            dampening = { penalty = 1, suppress = 10, reuse = 20 }

            [[service.real]]
            address = "192.0.2.11"
            [service.real.check]
            type = "misc"
            """;
        var ex = Assert.Throws<ConfigException>(() => ConfigLoader.ParseDirector(bad, "d.toml"));
        var keys = ex.Errors.Select(e => e.Key).ToList();
        foreach (var k in new[]
                 {
                     "director.check_port_range", "service[0].hysteresis", "service[0].check.type", "service[0].check.expect_status",
                     "service[0].check.interval", "service[0].check.rise", "service[0].check.via", "service[0].check.on_failure",
                     "service[0].check.colour", "service[0].check.path", "service[0].check.dampening", "service[0].real[0].check.type",
                 })
            Assert.Contains(k, keys);
        Assert.Contains(ex.Errors, e => e.Key == "service[0].check.type" && e.Message.Contains("did you mean \"http\""));
        Assert.Contains(ex.Errors, e => e.Key == "service[0].real[0].check.type" && e.Message.Contains("command"));
    }

    [Fact]
    public void UdpCheckOfATcpServiceThroughTheTunnelNeedsAPort()
    {
        var ex = Assert.Throws<ConfigException>(() => ConfigLoader.ParseDirector(
            "[[service]]\nvip = \"203.0.113.10\"\nport = 80\n[service.check]\ntype = \"dns\"\n", "d.toml"));
        Assert.Contains(ex.Errors, e => e.Key == "service[0].check.type" && e.Message.Contains("own port"));
    }

    [Fact]
    public void RealServerAgentKeys()
    {
        var cfg = ConfigLoader.ParseRealServer("""
            [realserver]
            vips = ["203.0.113.10"]
            directors = ["203.0.113.2"]
            agent_port = 9402
            agent_state_file = "/tmp/x-state"
            """, "rs.toml");
        Assert.Equal((9402, "/tmp/x-state", "0.0.0.0"), (cfg.AgentPort, cfg.AgentStateFile, cfg.AgentListen));
        var off = ConfigLoader.ParseRealServer("[realserver]\nvips = [\"203.0.113.10\"]\ndirectors = [\"203.0.113.2\"]\n", "rs.toml");
        Assert.Equal(0, off.AgentPort);
    }

    [Fact]
    public void PayloadEscapes() => Assert.Equal("a\nb\x01", HealthConfigReader.Unescape("a\\nb\\x01"));
}
