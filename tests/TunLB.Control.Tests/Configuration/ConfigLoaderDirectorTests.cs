using TunLB.Control.Configuration;
using TunLB.Core.Flows;

namespace TunLB.Control.Tests.Configuration;

public class ConfigLoaderDirectorTests
{
    // The example from the docs, verbatim (line numbers below depend on it).
    internal const string Example = """
        # director.toml
        [director]
        api = "127.0.0.1:9400"      # management API address host:port or [v6]:port (default 127.0.0.1:9400)
        api_token = ""              # bearer token; optional
        tun_name = "tunlb0"         # capture TUN device name, max 15 chars, [A-Za-z0-9_.-]
        tun_mtu = 1480              # 576..65515
        ttl = 64                    # outer TTL 1..255
        conn_max = 1000000          # connection table size 1..50,000,000
        conn_full_policy = "evict_oldest"   # evict_oldest | refuse
        timeout_tcp = 900           # seconds (ipvsadm --set tcp)
        timeout_tcp_fin = 120       # seconds
        timeout_udp = 300           # seconds
        sloppy_tcp = false          # schedule TCP packets without SYN
        expire_quiescent_template = false
        restore_inner_ttl = true    # undo the kernel forward path's TTL decrement on the inner packet

        [[service]]
        vip = "203.0.113.10"
        port = 80                   # 0..65535 (0 only with persistence: all ports, like ipvsadm -p with port 0)
        protocol = "tcp"            # tcp | udp
        scheduler = "wlc"           # rr wrr lc wlc sh dh mh  (default wlc, as ipvsadm)
        scheduler_flags = []        # e.g. ["mh-port", "mh-fallback", "sh-port", "sh-fallback"]
        mh_table_size = 65537       # prime
        persistence = 0             # seconds; 0 = off (ipvsadm -p)
        persistence_netmask = "255.255.255.255"   # ipvsadm -M; also accept an integer prefix length like 24

        [[service.real]]
        address = "192.0.2.11"
        port = 80                   # default: the service port
        weight = 1                  # 0..65535, default 1; 0 = quiescent
        upper_threshold = 0         # ipvsadm -x
        lower_threshold = 0         # ipvsadm -y
        """;

    internal static ConfigException Fails(string toml, string path = "director.toml") =>
        Assert.Throws<ConfigException>(() => ConfigLoader.ParseDirector(toml, path));

    /// <summary>Asserts exactly one error and returns it.</summary>
    internal static ConfigError Single(string toml) => Assert.Single(Fails(toml).Errors);

    [Fact]
    public void Example_parses_to_the_written_values()
    {
        var c = ConfigLoader.ParseDirector(Example, "director.toml");
        var d = c.Director;
        Assert.Equal("director.toml", c.SourcePath);
        Assert.Equal("127.0.0.1:9400", d.Api);
        Assert.Equal("127.0.0.1", d.ApiHost);
        Assert.Equal(9400, d.ApiPort);
        Assert.Equal("", d.ApiToken);
        Assert.Equal("tunlb0", d.TunName);
        Assert.Equal(1480, d.TunMtu);
        Assert.Equal(64, d.Ttl);
        Assert.Equal(1_000_000, d.ConnMax);
        Assert.Equal("evict_oldest", d.ConnFullPolicy);
        Assert.Equal(900, d.TimeoutTcp);
        Assert.Equal(120, d.TimeoutTcpFin);
        Assert.Equal(300, d.TimeoutUdp);
        Assert.False(d.SloppyTcp);
        Assert.False(d.ExpireQuiescentTemplate);
        Assert.True(d.RestoreInnerTtl);

        var s = Assert.Single(c.Services);
        Assert.Equal(IpAddress.Parse("203.0.113.10"), s.Vip);
        Assert.True(s.Vip.IsV4);
        Assert.Equal(80, s.Port);
        Assert.Equal(6, s.Protocol);
        Assert.Equal("tcp", s.ProtocolName);
        Assert.Equal("wlc", s.Scheduler);
        Assert.Empty(s.SchedulerFlags);
        Assert.Equal(65537, s.MhTableSize);
        Assert.Equal(0, s.PersistenceSeconds);
        Assert.Equal(32, s.PersistencePrefix);
        Assert.Equal(17, s.Line);

        var r = Assert.Single(s.Reals);
        Assert.Equal(IpAddress.Parse("192.0.2.11"), r.Address);
        Assert.Equal(80, r.Port);
        Assert.Equal(1, r.Weight);
        Assert.Equal(0, r.UpperThreshold);
        Assert.Equal(0, r.LowerThreshold);
        Assert.Equal(27, r.Line);
    }

    [Fact]
    public void Minimal_config_gets_the_defaults()
    {
        var c = ConfigLoader.ParseDirector("""
            [[service]]
            vip = "203.0.113.10"
            port = 443

            [[service.real]]
            address = "192.0.2.11"
            """, "d.toml");
        Assert.Equal(new DirectorSettings(), c.Director);
        var d = c.Director;
        Assert.Equal(("127.0.0.1:9400", "127.0.0.1", 9400), (d.Api, d.ApiHost, d.ApiPort));
        Assert.Equal(("tunlb0", 1480, 64, 1_000_000), (d.TunName, d.TunMtu, d.Ttl, d.ConnMax));
        Assert.Equal((900, 120, 300), (d.TimeoutTcp, d.TimeoutTcpFin, d.TimeoutUdp));
        Assert.Equal((false, false, true), (d.SloppyTcp, d.ExpireQuiescentTemplate, d.RestoreInnerTtl));

        var s = Assert.Single(c.Services);
        Assert.Equal(("tcp", (byte)6, "wlc", 65537, 0, 32), (s.ProtocolName, s.Protocol, s.Scheduler, s.MhTableSize, s.PersistenceSeconds, s.PersistencePrefix));
        var r = Assert.Single(s.Reals);
        Assert.Equal(443, r.Port); // defaults to the service port
        Assert.Equal(1, r.Weight);
    }

    [Fact]
    public void Empty_file_is_a_director_with_defaults_and_no_services()
    {
        var c = ConfigLoader.ParseDirector("", "d.toml");
        Assert.Empty(c.Services);
        Assert.Equal(new DirectorSettings(), c.Director);
    }

    [Fact]
    public void Non_default_values_are_read()
    {
        var c = ConfigLoader.ParseDirector("""
            [director]
            api = "[::1]:9500"
            api_token = "s3cret"
            tun_name = "lb.cap-0_x"
            conn_full_policy = "refuse"
            sloppy_tcp = true
            conn_max = 50_000_000

            [[service]]
            vip = "203.0.113.10"
            port = 0
            protocol = "udp"
            scheduler = "mh"
            scheduler_flags = ["mh-port", "mh-fallback"]
            mh_table_size = 251
            persistence = 300
            persistence_netmask = 24

            [[service.real]]
            address = "192.0.2.11"
            weight = 0
            upper_threshold = 100
            lower_threshold = 50

            [[service]]
            vip = "203.0.113.10"
            port = 0
            protocol = "tcp"
            persistence = 60
            persistence_netmask = "255.255.0.0"
            """, "d.toml");
        Assert.Equal(("::1", 9500, "s3cret", "lb.cap-0_x"), (c.Director.ApiHost, c.Director.ApiPort, c.Director.ApiToken, c.Director.TunName));
        Assert.Equal("refuse", c.Director.ConnFullPolicy);
        Assert.True(c.Director.SloppyTcp);
        Assert.Equal(50_000_000, c.Director.ConnMax);

        Assert.Equal(2, c.Services.Count);
        var s = c.Services[0];
        Assert.Equal((0, (byte)17, "udp", "mh", 251, 300, 24), ((int)s.Port, s.Protocol, s.ProtocolName, s.Scheduler, s.MhTableSize, s.PersistenceSeconds, s.PersistencePrefix));
        Assert.Equal(["mh-port", "mh-fallback"], s.SchedulerFlags);
        var r = Assert.Single(s.Reals);
        Assert.Equal((0, 0, 100, 50), ((int)r.Port, r.Weight, r.UpperThreshold, r.LowerThreshold));
        Assert.Equal(16, c.Services[1].PersistencePrefix);
        Assert.Equal(6, c.Services[1].Protocol);
    }

    [Fact]
    public void Services_may_also_be_written_as_inline_tables()
    {
        var c = ConfigLoader.ParseDirector("""
            service = [
              { vip = "203.0.113.10", port = 80, real = [ { address = "192.0.2.11" }, { address = "192.0.2.12", weight = 3 } ] },
            ]
            """, "d.toml");
        var s = Assert.Single(c.Services);
        Assert.Equal(2, s.Reals.Count);
        Assert.Equal(3, s.Reals[1].Weight);
    }

    [Fact]
    public void Ipv6_service_with_ipv6_reals_is_accepted()
    {
        var c = ConfigLoader.ParseDirector("""
            [[service]]
            vip = "2001:db8::10"
            port = 80
            persistence = 60
            persistence_netmask = 64
            [[service.real]]
            address = "2001:db8:1::11"
            """, "d.toml");
        var s = Assert.Single(c.Services);
        Assert.False(s.Vip.IsV4);
        Assert.Equal(64, s.PersistencePrefix);
        Assert.Equal(IpAddress.Parse("2001:db8:1::11"), s.Reals[0].Address);
    }

    [Fact]
    public void Ipv6_service_defaults_to_a_128_bit_persistence_prefix()
    {
        var c = ConfigLoader.ParseDirector("[[service]]\nvip = \"2001:db8::10\"\nport = 80\n", "d.toml");
        Assert.Equal(128, c.Services[0].PersistencePrefix);
    }

    [Fact]
    public void Service_without_reals_is_allowed()
    {
        var c = ConfigLoader.ParseDirector("[[service]]\nvip = \"203.0.113.10\"\nport = 80\n", "d.toml");
        Assert.Empty(c.Services[0].Reals);
    }
}
