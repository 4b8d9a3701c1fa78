using TunLB.Control.Configuration;
using static TunLB.Control.Tests.Configuration.ConfigLoaderDirectorTests;

namespace TunLB.Control.Tests.Configuration;

public class ConfigLoaderDirectorErrorTests
{
    private const string Service = "[[service]]\nvip = \"203.0.113.10\"\nport = 80\n";

    /// <summary>Example with one line replaced (1-based line number).</summary>
    private static string ExampleWith(int line, string replacement)
    {
        var lines = Example.Split('\n');
        lines[line - 1] = replacement;
        return string.Join('\n', lines);
    }

    [Fact]
    public void Syntax_error_reports_tomlyn_line_and_column()
    {
        var e = Single("[director]\nttl = 64\ntun_mtu = \n");
        Assert.Equal(("director.toml", 3, 11), (e.File, e.Line, e.Column));
        Assert.Equal("", e.Key);
        Assert.Contains("expecting a value", e.Message);
    }

    [Fact]
    public void Several_syntax_errors_are_all_reported()
    {
        var ex = Fails("[director]\nttl = \n[[service]\nvip = \"203.0.113.10\" x\n");
        Assert.Equal([2, 3, 4], ex.Errors.Select(e => e.Line));
    }

    [Fact]
    public void Key_defined_twice_names_the_key()
    {
        var e = Single("[director]\nttl = 64\nttl = 65\n");
        Assert.Equal((3, "director.ttl"), (e.Line, e.Key));
        Assert.Contains("already defined", e.Message);
    }

    [Fact]
    public void Unknown_real_key_gives_full_path_and_suggestion()
    {
        var toml = Service + "[[service.real]]\naddress = \"192.0.2.11\"\n" +
                   Service.Replace("port = 80", "port = 81") + "[[service.real]]\naddress = \"192.0.2.11\"\nwieght = 2\n";
        var e = Single(toml);
        Assert.Equal("service[1].real[0].wieght", e.Key);
        Assert.Equal((11, 1), (e.Line, e.Column));
        Assert.Contains("unknown key; did you mean \"weight\"?", e.Message);
        Assert.Equal("director.toml:11:1: service[1].real[0].wieght: " + e.Message, e.ToString());
    }

    [Fact]
    public void Unknown_key_without_a_close_match_has_no_suggestion()
    {
        var e = Single("[director]\ncolour = \"blue\"\n");
        Assert.Equal(("director.colour", 2), (e.Key, e.Line));
        Assert.DoesNotContain("did you mean", e.Message);
        Assert.Contains("known keys here", e.Message);
    }

    [Fact]
    public void Unknown_table_is_reported_with_suggestion()
    {
        var e = Single("[directr]\nttl = 64\n");
        Assert.Equal(("directr", 1, 1), (e.Key, e.Line, e.Column));
        Assert.Contains("unknown table; did you mean \"director\"?", e.Message);
    }

    [Fact]
    public void Director_key_at_top_level_hints_at_the_header()
    {
        var e = Single("tun_mtu = 1500\n[director]\n");
        Assert.Equal("tun_mtu", e.Key);
        Assert.Contains("director.tun_mtu", e.Message);
    }

    [Fact]
    public void Wrong_value_type_names_expected_and_actual()
    {
        var e = Single(ExampleWith(6, "tun_mtu = \"1480\""));
        Assert.Equal(("director.tun_mtu", 6, 1), (e.Key, e.Line, e.Column));
        Assert.Equal("expected an integer, got a string (\"1480\")", e.Message);
    }

    [Fact]
    public void Boolean_written_as_string_is_a_type_error()
    {
        var e = Single(ExampleWith(13, "sloppy_tcp = \"false\""));
        Assert.Equal(("director.sloppy_tcp", 13), (e.Key, e.Line));
        Assert.StartsWith("expected a boolean", e.Message);
    }

    [Theory]
    [InlineData(6, "tun_mtu = 575", "director.tun_mtu", "576..65515")]
    [InlineData(6, "tun_mtu = 65516", "director.tun_mtu", "576..65515")]
    [InlineData(7, "ttl = 0", "director.ttl", "1..255")]
    [InlineData(7, "ttl = 256", "director.ttl", "1..255")]
    [InlineData(8, "conn_max = 50_000_001", "director.conn_max", "1..50000000")]
    [InlineData(8, "conn_max = 0", "director.conn_max", "1..50000000")]
    [InlineData(10, "timeout_tcp = 0", "director.timeout_tcp", "1..")]
    [InlineData(19, "port = 65536", "service[0].port", "0..65535")]
    [InlineData(19, "port = -1", "service[0].port", "0..65535")]
    [InlineData(24, "persistence = -5", "service[0].persistence", "0..")]
    [InlineData(29, "port = 70000", "service[0].real[0].port", "0..65535")]
    [InlineData(30, "weight = 65536", "service[0].real[0].weight", "0..65535")]
    [InlineData(30, "weight = -1", "service[0].real[0].weight", "0..65535")]
    public void Out_of_range_values_are_reported_at_their_key(int line, string replacement, string key, string range)
    {
        var e = Single(ExampleWith(line, replacement));
        Assert.Equal((key, line, 1), (e.Key, e.Line, e.Column));
        Assert.Contains("out of range", e.Message);
        Assert.Contains(range, e.Message);
    }

    [Theory]
    [InlineData(18, "vip = \"203.0.113\"", "service[0].vip")]
    [InlineData(18, "vip = \"203.0.113.256\"", "service[0].vip")]
    [InlineData(18, "vip = \"010.0.0.1\"", "service[0].vip")]
    [InlineData(18, "vip = \"0.0.0.0\"", "service[0].vip")]
    [InlineData(18, "vip = \"224.0.0.1\"", "service[0].vip")]
    [InlineData(18, "vip = \"255.255.255.255\"", "service[0].vip")]
    [InlineData(18, "vip = \"www.example.com\"", "service[0].vip")]
    [InlineData(18, "vip = \"fe80::1%eth0\"", "service[0].vip")]
    [InlineData(28, "address = \"192.0.2\"", "service[0].real[0].address")]
    [InlineData(28, "address = \"::\"", "service[0].real[0].address")]
    public void Bad_addresses_are_reported(int line, string replacement, string key)
    {
        var e = Single(ExampleWith(line, replacement));
        Assert.Equal((key, line), (e.Key, e.Line));
    }

    [Fact]
    public void Duplicate_service_names_both_lines()
    {
        var toml = Service + "\n" + Service + "\n" + Service.Replace("port = 80", "port = 80\nprotocol = \"udp\"");
        var e = Single(toml);
        Assert.Equal(("service[1]", 5, 1), (e.Key, e.Line, e.Column));
        Assert.Contains("duplicate service tcp 203.0.113.10:80", e.Message);
        Assert.Contains("line 1 (service[0])", e.Message);
    }

    [Fact]
    public void Duplicate_real_in_one_service_names_the_first()
    {
        var toml = Service + "[[service.real]]\naddress = \"192.0.2.11\"\n[[service.real]]\naddress = \"192.0.2.12\"\n" +
                   "[[service.real]]\naddress = \"192.0.2.11\"\nport = 8080\n";
        var e = Single(toml);
        Assert.Equal(("service[0].real[2].address", 9), (e.Key, e.Line));
        Assert.Contains("duplicate real 192.0.2.11", e.Message);
        Assert.Contains("service[0].real[0] at line 4", e.Message);
    }

    [Fact]
    public void Same_real_in_two_services_is_fine()
    {
        var toml = Service + "[[service.real]]\naddress = \"192.0.2.11\"\n" +
                   Service.Replace("80", "443") + "[[service.real]]\naddress = \"192.0.2.11\"\n";
        Assert.Equal(2, ConfigLoader.ParseDirector(toml, "d.toml").Services.Count);
    }

    [Theory]
    [InlineData("[[service]]\nport = 80\n", "service[0].vip", 1)]
    [InlineData("[[service]]\nvip = \"203.0.113.10\"\n", "service[0].port", 1)]
    [InlineData("[director]\n\n[[service]]\nvip = \"203.0.113.10\"\nport = 80\n[[service.real]]\nweight = 1\n", "service[0].real[0].address", 6)]
    public void Missing_required_key_points_at_the_table_header(string toml, string key, int line)
    {
        var e = Single(toml);
        Assert.Equal((key, line, 1), (e.Key, e.Line, e.Column));
        Assert.Equal("required key is missing", e.Message);
    }

    [Fact]
    public void Unknown_scheduler_lists_the_known_ones()
    {
        var e = Single(ExampleWith(21, "scheduler = \"wlcx\""));
        Assert.Equal(("service[0].scheduler", 21), (e.Key, e.Line));
        Assert.Contains("unknown scheduler \"wlcx\"; known: rr wrr lc wlc sh dh mh sed nq", e.Message);
        Assert.Contains("did you mean \"wlc\"", e.Message);
    }

    [Fact]
    public void Unknown_protocol_is_reported()
    {
        var e = Single(ExampleWith(20, "protocol = \"sctp\""));
        Assert.Equal(("service[0].protocol", 20), (e.Key, e.Line));
        Assert.Contains("tcp udp", e.Message);
    }

    [Fact]
    public void Bad_conn_full_policy_is_reported()
    {
        var e = Single(ExampleWith(9, "conn_full_policy = \"drop\""));
        Assert.Equal(("director.conn_full_policy", 9), (e.Key, e.Line));
        Assert.Contains("evict_oldest refuse", e.Message);
    }

    [Theory]
    [InlineData(65536)]
    [InlineData(1)]
    [InlineData(1000)]
    public void Non_prime_mh_table_size_is_reported(int size)
    {
        var e = Single(ExampleWith(23, $"mh_table_size = {size}"));
        Assert.Equal(("service[0].mh_table_size", 23), (e.Key, e.Line));
    }

    [Fact]
    public void Non_prime_mh_table_size_says_so()
    {
        var e = Single(ExampleWith(23, "mh_table_size = 65536"));
        Assert.Contains("65536 is not a prime", e.Message);
    }

    [Theory]
    [InlineData("\"255.0.255.0\"", "not contiguous")]
    [InlineData("\"255.255.255.1\"", "not contiguous")]
    [InlineData("33", "0..32")]
    [InlineData("\"ffff:ffff::\"", "IPv6")]
    [InlineData("\"255.255.255\"", "netmask")]
    [InlineData("true", "netmask")]
    public void Bad_persistence_netmask_is_reported(string value, string text)
    {
        var e = Single(ExampleWith(25, $"persistence_netmask = {value}"));
        Assert.Equal(("service[0].persistence_netmask", 25), (e.Key, e.Line));
        Assert.Contains(text, e.Message);
    }

    [Theory]
    [InlineData("\"255.255.255.0\"", 24)]
    [InlineData("\"0.0.0.0\"", 0)]
    [InlineData("\"255.255.255.255\"", 32)]
    [InlineData("0", 0)]
    [InlineData("32", 32)]
    public void Persistence_netmask_forms_give_the_prefix(string value, int prefix)
    {
        var c = ConfigLoader.ParseDirector(ExampleWith(25, $"persistence_netmask = {value}"), "d.toml");
        Assert.Equal(prefix, c.Services[0].PersistencePrefix);
    }

    [Fact]
    public void Port_zero_without_persistence_is_reported()
    {
        var e = Single(ExampleWith(19, "port = 0"));
        Assert.Equal(("service[0].port", 19), (e.Key, e.Line));
        Assert.Contains("persistence", e.Message);
    }

    [Theory]
    [InlineData("\"\"")]
    [InlineData("\"tunlb0-way-too-long\"")]
    [InlineData("\"tun lb\"")]
    [InlineData("\"tun/0\"")]
    [InlineData("\"..\"")]
    public void Bad_tun_name_is_reported(string value)
    {
        var e = Single(ExampleWith(5, $"tun_name = {value}"));
        Assert.Equal(("director.tun_name", 5), (e.Key, e.Line));
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("127.0.0.1:")]
    [InlineData("127.0.0.1:0")]
    [InlineData("127.0.0.1:65536")]
    [InlineData(":9400")]
    [InlineData("::1:9400")]
    [InlineData("[::1]9400")]
    [InlineData("[1.2.3.4]:9400")]
    [InlineData("300.0.0.1:9400")]
    [InlineData("bad_host:9400")]
    public void Api_that_is_not_host_port_is_reported(string value)
    {
        var e = Single(ExampleWith(3, $"api = \"{value}\""));
        Assert.Equal(("director.api", 3), (e.Key, e.Line));
    }

    [Theory]
    [InlineData("0.0.0.0:9400", "0.0.0.0", 9400)]
    [InlineData("localhost:80", "localhost", 80)]
    [InlineData("[2001:db8::1]:9400", "2001:db8::1", 9400)]
    public void Api_host_port_forms_are_accepted(string value, string host, int port)
    {
        var d = ConfigLoader.ParseDirector(ExampleWith(3, $"api = \"{value}\""), "d.toml").Director;
        Assert.Equal((value, host, port), (d.Api, d.ApiHost, d.ApiPort));
    }

    [Fact]
    public void Scheduler_flags_are_checked()
    {
        var ex = Fails(ExampleWith(22, "scheduler_flags = [\"mh-prot\", \"sh-port\", 3]"));
        Assert.Equal(["service[0].scheduler_flags[0]", "service[0].scheduler_flags[1]", "service[0].scheduler_flags[2]"],
            ex.Errors.Select(e => e.Key));
        Assert.All(ex.Errors, e => Assert.Equal(22, e.Line));
        Assert.Contains("did you mean \"mh-port\"", ex.Errors[0].Message);
        Assert.Contains("is for scheduler sh, but this service uses wlc", ex.Errors[1].Message);
    }

    [Fact]
    public void Lower_threshold_above_upper_is_reported()
    {
        var e = Single(ExampleWith(31, "upper_threshold = 10").Replace("lower_threshold = 0", "lower_threshold = 20"));
        Assert.Equal(("service[0].real[0].lower_threshold", 32), (e.Key, e.Line));
    }

    [Fact]
    public void Service_as_a_plain_table_is_rejected()
    {
        var e = Single("[service]\nvip = \"203.0.113.10\"\nport = 80\n");
        Assert.Equal(("service", 1), (e.Key, e.Line));
        Assert.Contains("[[service]]", e.Message);
    }

    [Fact]
    public void Real_as_a_plain_table_is_rejected()
    {
        var e = Single(Service + "[service.real]\naddress = \"192.0.2.11\"\n");
        Assert.Equal(("service[0].real", 4), (e.Key, e.Line));
        Assert.Contains("[[service.real]]", e.Message);
    }

    [Fact]
    public void All_errors_are_reported_at_once_in_file_order()
    {
        var toml = """
            [director]
            ttl = 0
            tun_name = "this-name-is-too-long"
            colour = 1

            [[service]]
            vip = "203.0.113.10"
            port = 80
            scheduler = "fifo"

            [[service.real]]
            address = "192.0.2.300"

            [[service.real]]
            address = "192.0.2.12"
            wieght = 1

            [[service]]
            port = 0
            mh_table_size = 100

            [[service]]
            vip = "203.0.113.10"
            port = 80
            """;
        var ex = Fails(toml, "/etc/tunlb/director.toml");
        Assert.Equal(
            [
                (2, "director.ttl"),
                (3, "director.tun_name"),
                (4, "director.colour"),
                (9, "service[0].scheduler"),
                (12, "service[0].real[0].address"),
                (16, "service[0].real[1].wieght"),
                (18, "service[1].vip"),
                (19, "service[1].port"),
                (20, "service[1].mh_table_size"),
                (22, "service[2]"),
            ],
            ex.Errors.Select(e => (e.Line, e.Key)));
        Assert.All(ex.Errors, e => Assert.Equal("/etc/tunlb/director.toml", e.File));
        var lines = ex.Message.Split('\n');
        Assert.Equal(ex.Errors.Count, lines.Length);
        Assert.Equal(ex.Errors.Select(e => e.ToString()), lines);
        Assert.StartsWith("/etc/tunlb/director.toml:2:1: director.ttl: 0 is out of range; must be 1..255", lines[0]);
    }

    [Fact]
    public void Misspelt_weight_is_reported_at_its_line_as_the_cli_prints_it()
    {
        // Same file as the end-to-end test of `tunlb director` with a bad config.
        var ex = Fails("""
            [director]
            api = "127.0.0.1:9400"

            [[service]]
            vip = "203.0.113.10"
            port = 80
            protocol = "tcp"
            scheduler = "rr"

            [[service.real]]
            address = "192.0.2.11"
            wieght = 1
            """, "/tmp/bad.toml");
        Assert.Equal("/tmp/bad.toml:12:1: service[0].real[0].wieght: unknown key; did you mean \"weight\"? " +
                     "(known keys here: address, port, weight, upper_threshold, lower_threshold, mtu, encap, gue_port, gue_checksum, site, provider, check)", ex.Message);
    }

    [Fact]
    public void Missing_file_gives_a_clear_error()
    {
        var path = Path.Combine(Path.GetTempPath(), $"tunlb-missing-{Guid.NewGuid():N}", "director.toml");
        var ex = Assert.Throws<ConfigException>(() => ConfigLoader.LoadDirector(path));
        var e = Assert.Single(ex.Errors);
        Assert.Equal((path, 0, ""), (e.File, e.Line, e.Key));
        Assert.Contains("cannot read configuration file", e.Message);
        Assert.Contains("not found", e.Message);
        Assert.StartsWith(path + ": cannot read", ex.Message);
    }

    [Fact]
    public void Load_reads_a_file_and_reports_its_path()
    {
        var path = Path.Combine(Path.GetTempPath(), $"tunlb-{Guid.NewGuid():N}.toml");
        File.WriteAllText(path, Example);
        try
        {
            var c = ConfigLoader.LoadDirector(path);
            Assert.Equal(path, c.SourcePath);
            Assert.Single(c.Services);

            File.WriteAllText(path, "[director]\r\nttl = 300\r\n");
            var e = Assert.Single(Assert.Throws<ConfigException>(() => ConfigLoader.LoadDirector(path)).Errors);
            Assert.Equal((path, 2, "director.ttl"), (e.File, e.Line, e.Key));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
