using TunLB.Cli.Import;
using static TunLB.Cli.Tests.Import.ImportTestSupport;

namespace TunLB.Cli.Tests.Import;

public class KeepalivedImporterTests
{
    public static TheoryData<string> Fixtures => new() { "web-nat.conf", "mixed-dr.conf", "tun-clean.conf", "include/keepalived.conf" };

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Every_fixture_converts_and_loads(string name)
    {
        var r = KeepalivedImporter.ImportFile(Fixture(name));
        Assert.StartsWith($"# TunLB director configuration converted from keepalived configuration {Fixture(name)}\n", r.Toml);
        // The importer's own self-check found nothing.
        Assert.DoesNotContain(r.Issues, i => i.What == "converted output");
        var config = LoadStripped(r);
        Assert.Equal(r.ServicesWritten, config.Services.Count);
        Assert.Equal(r.RealsWritten, config.Services.Sum(s => s.Reals.Count));
        ParseToml(r.Toml);
        AssertFullOutputFailsOnlyOnNewKeys(r);
        // The whole output, health checks and quorum included, passes the director's check.
        Assert.Empty(TunLB.Cli.Commands.ConfigCheck.DirectorErrors(r.Toml, "converted.toml"));
    }

    [Fact]
    public void Web_nat_values()
    {
        var r = KeepalivedImporter.ImportFile(Fixture("web-nat.conf"));
        var c = LoadStripped(r);
        Assert.Equal(2, c.Services.Count);
        var web = c.Services[0];
        Assert.Equal("203.0.113.10", web.Vip.ToString());
        Assert.Equal(80, web.Port);
        Assert.Equal("tcp", web.ProtocolName);
        Assert.Equal("wlc", web.Scheduler);
        Assert.Equal(300, web.PersistenceSeconds);
        Assert.Equal(24, web.PersistencePrefix);
        Assert.Equal(["192.0.2.11", "192.0.2.12", "192.0.2.13"], web.Reals.Select(x => x.Address.ToString()));
        Assert.Equal([3, 2, 1], web.Reals.Select(x => x.Weight));
        Assert.Equal([80, 80, 8080], web.Reals.Select(x => (int)x.Port));
        var tls = c.Services[1];
        Assert.Equal("wlc", tls.Scheduler); // lblc has no TunLB equivalent
        Assert.Single(tls.Reals);          // the second 192.0.2.11 (port 8443) is a duplicate address

        var root = ParseToml(r.Toml);
        var s0 = Service(root, 0);
        Assert.Equal(2L, Value(s0, "quorum"));
        Assert.Equal(1L, Value(s0, "hysteresis"));
        Assert.Equal("/usr/local/sbin/vip-up.sh 203.0.113.10", Value(s0, "quorum_up"));
        Assert.Equal("/usr/local/sbin/vip-down.sh 203.0.113.10", Value(s0, "quorum_down"));
        var sorry = Table(s0, "sorry");
        Assert.Equal("192.0.2.200", Value(sorry, "address"));
        Assert.Equal(80L, Value(sorry, "port"));
        var check = Table(s0, "check");
        Assert.Equal("http", Value(check, "type"));
        Assert.Equal("/healthz", Value(check, "path"));
        Assert.Equal("www.example.net", Value(check, "host"));
        Assert.Equal(5.0, Value(check, "interval"));
        Assert.Equal(2.0, Value(check, "timeout"));
        Assert.Equal(1L, Value(check, "rise"));
        Assert.Equal(3L, Value(check, "fall"));      // retry 2 + 1
        Assert.Equal(true, Value(check, "alpha"));
        Assert.Equal("tunnel", Value(check, "via"));
        Assert.Null(Value(check, "expect_body"));
        // The reals differ in status range and inhibit_on_failure: those are per-real overrides.
        Assert.Equal("200-399", Value(Table(Real(s0, 0), "check"), "expect_status"));
        Assert.Equal("inhibit", Value(Table(Real(s0, 0), "check"), "on_failure"));
        Assert.Equal("inhibit", Value(Table(Real(s0, 1), "check"), "on_failure"));
        Assert.Equal("200-299", Value(Table(Real(s0, 2), "check"), "expect_status"));
        Assert.Equal("remove", Value(Table(Real(s0, 2), "check"), "on_failure"));

        var s1check = Table(Service(root, 1), "check");
        Assert.Equal("https", Value(s1check, "type"));
        Assert.Equal(10.0, Value(s1check, "interval"));
        Assert.Equal(3.0, Value(s1check, "timeout"));
        Assert.Equal(2L, Value(s1check, "fall")); // default retry 1
        Assert.Null(Table(Service(root, 1), "sorry"));
        Assert.Null(Value(Service(root, 1), "quorum"));
    }

    [Fact]
    public void Web_nat_report_names_each_line()
    {
        var f = Fixture("web-nat.conf");
        var r = KeepalivedImporter.ImportFile(f);
        Assert.Equal(ImportResult.ExitIncomplete, r.ExitCode);
        Issue(r, "web-nat.conf", LineOf(f, "global_defs"), ImportSeverity.Note, "global_defs");
        Issue(r, "web-nat.conf", LineOf(f, "vrrp_instance"), ImportSeverity.Note, "vrrp_instance");
        // NAT converted as TUN: the director balances the same; the real servers need the tunnel (docs/migrating.md).
        Issue(r, "web-nat.conf", LineOf(f, "lb_kind NAT"), ImportSeverity.Note, "lb_kind NAT");
        Issue(r, "web-nat.conf", LineOf(f, "lb_kind NAT", 2), ImportSeverity.Note, "lb_kind NAT");
        Issue(r, "web-nat.conf", LineOf(f, "real_server 192.0.2.13 8080"), ImportSeverity.Changed, "real_server 192.0.2.13 8080");
        var digest = Issue(r, "web-nat.conf", LineOf(f, "digest 8f3b"), ImportSeverity.Skipped, "digest");
        Assert.Contains("digest", digest.Why);
        Issue(r, "web-nat.conf", LineOf(f, "url {", 4), ImportSeverity.Skipped, "url { path /status }");
        Issue(r, "web-nat.conf", LineOf(f, "lb_algo lblc"), ImportSeverity.Changed, "lb_algo lblc");
        Issue(r, "web-nat.conf", LineOf(f, "enable_sni"), ImportSeverity.Skipped, "enable_sni");
        var dup = Issue(r, "web-nat.conf", LineOf(f, "real_server 192.0.2.11 8443"), ImportSeverity.Skipped, "real_server 192.0.2.11 8443");
        Assert.Contains($"line {LineOf(f, "real_server 192.0.2.11 443")}", dup.Why);
        // Retry timing is a note, not a failure; HTTP_GET's delay_before_retry equals delay_loop, so it has none.
        Issue(r, "web-nat.conf", LineOf(f, "SSL_GET"), ImportSeverity.Note, "SSL_GET");
        Assert.DoesNotContain(r.Issues, i => i.What == "HTTP_GET");
        Assert.Equal(11, r.Issues.Count);
        // Every issue is also written into the output's header.
        foreach (var i in r.Issues) Assert.Contains("#   " + i, r.Toml);
    }

    [Fact]
    public void Mixed_dr_values_and_report()
    {
        var f = Fixture("mixed-dr.conf");
        var r = KeepalivedImporter.ImportFile(f);
        Assert.Equal(5, r.VirtualServers);
        // The group (198.51.100.20 and 198.51.100.21-25) yields six services, as keepalived's six IPVS services.
        Assert.Equal(8, r.ServicesWritten);
        Assert.Equal(ImportResult.ExitIncomplete, r.ExitCode);
        Assert.DoesNotContain(r.Issues, i => i.What.StartsWith("virtual_server_group", StringComparison.Ordinal));
        Issue(r, "mixed-dr.conf", LineOf(f, "virtual_server group WEB_GROUP"), ImportSeverity.Note, "virtual_server group WEB_GROUP"); // no lvs_method: NAT
        Issue(r, "mixed-dr.conf", LineOf(f, "virtual_server fwmark 7"), ImportSeverity.Skipped, "virtual_server fwmark 7");
        Issue(r, "mixed-dr.conf", LineOf(f, "lvs_method DR"), ImportSeverity.Note, "lvs_method DR");
        Issue(r, "mixed-dr.conf", LineOf(f, "MISC_CHECK"), ImportSeverity.Skipped, "MISC_CHECK");
        Issue(r, "mixed-dr.conf", LineOf(f, "PING_CHECK"), ImportSeverity.Skipped, "PING_CHECK");
        Issue(r, "mixed-dr.conf", LineOf(f, "real_server 192.0.2.43"), ImportSeverity.Changed, "real_server 192.0.2.43");
        Issue(r, "mixed-dr.conf", LineOf(f, "notify_down"), ImportSeverity.Skipped, "notify_down");
        Assert.DoesNotContain(r.Issues, i => i.What.StartsWith("lvs_sched sed", StringComparison.Ordinal)); // TunLB has sed
        Issue(r, "mixed-dr.conf", LineOf(f, "ha_suspend"), ImportSeverity.Skipped, "ha_suspend");
        Assert.DoesNotContain(r.Issues, i => i.What.StartsWith("type A", StringComparison.Ordinal) || i.What.StartsWith("name", StringComparison.Ordinal));
        Issue(r, "mixed-dr.conf", LineOf(f, "protocol SCTP"), ImportSeverity.Skipped, "protocol SCTP");

        var c = LoadStripped(r);
        Assert.Equal(["198.51.100.20", "198.51.100.21", "198.51.100.22", "198.51.100.23", "198.51.100.24", "198.51.100.25"],
            c.Services.Take(6).Select(s => s.Vip.ToString()));
        Assert.All(c.Services.Take(6), s => Assert.Equal("192.0.2.31", Assert.Single(s.Reals).Address.ToString()));
        c = c with { Services = c.Services.Skip(6).ToList() };
        var smtp = c.Services[0];
        Assert.Equal("sh", smtp.Scheduler);
        Assert.Equal(["sh-port"], smtp.SchedulerFlags);
        Assert.Equal([10, 20, 0], smtp.Reals.Select(x => x.Weight));
        var dns = c.Services[1];
        Assert.Equal("udp", dns.ProtocolName);
        Assert.Equal("sed", dns.Scheduler);

        var root = ParseToml(r.Toml);
        var s0 = Service(root, 6);
        // Checks differ in type (two tcp, one none): the service default is none, the reals carry theirs.
        Assert.Equal("none", Value(Table(s0, "check"), "type"));
        var tcp = Table(Real(s0, 0), "check");
        Assert.Equal("tcp", Value(tcp, "type"));
        Assert.Equal(2525L, Value(tcp, "port"));
        Assert.Equal(4.0, Value(tcp, "timeout")); // connect_timeout at the virtual_server level
        Assert.Equal(20.0, Value(tcp, "interval"));
        Assert.Equal("tcp", Value(Table(Real(s0, 1), "check"), "type")); // the first checker wins
        Assert.Null(Table(Real(s0, 2), "check"));                          // PING_CHECK only: inherits none
        var s1 = Service(root, 7);
        var dnsCheck = Table(Real(s1, 0), "check");
        Assert.Equal("dns", Value(dnsCheck, "type"));
        Assert.Equal("A", Value(dnsCheck, "query_type"));
        Assert.Equal("probe.example.net", Value(dnsCheck, "query_name"));
        Assert.Equal(4L, Value(dnsCheck, "fall")); // DNS_CHECK retry default 3
        var misc = Table(Real(s1, 1), "check");
        Assert.Equal("misc", Value(misc, "type"));
        Assert.Equal("/usr/local/bin/dig-check 192.0.2.52", Value(misc, "command"));
        Assert.Equal(2.0, Value(misc, "timeout"));
        Assert.Equal(true, Value(misc, "dynamic"));
        Assert.Equal(1L, Value(misc, "fall")); // MISC_CHECK retry default 0
    }

    [Fact]
    public void Tun_clean_maps_everything()
    {
        var r = KeepalivedImporter.ImportFile(Fixture("tun-clean.conf"));
        Assert.Empty(r.Issues);
        Assert.Equal(ImportResult.ExitOk, r.ExitCode);
        var c = LoadStripped(r);
        var s = c.Services[0];
        Assert.Equal("mh", s.Scheduler);
        Assert.Equal(["mh-port", "mh-fallback"], s.SchedulerFlags);
        Assert.Equal(600, s.PersistenceSeconds);
        Assert.Equal(5000, s.Reals[0].UpperThreshold);
        Assert.Equal(4000, s.Reals[0].LowerThreshold);
        Assert.Equal("rr", c.Services[1].Scheduler);
        Assert.Equal(1, c.Services[1].Reals[0].Weight); // keepalived's default weight

        var root = ParseToml(r.Toml);
        var check = Table(Service(root, 0), "check");
        Assert.Equal("tcp", Value(check, "type"));
        Assert.Equal(2.0, Value(check, "interval"));
        Assert.Equal(1.0, Value(check, "timeout"));
        Assert.Equal(3L, Value(check, "fall"));
        Assert.Equal("remove", Value(check, "on_failure"));
        Assert.Equal(443L, Value(Table(Real(Service(root, 0), 0), "check"), "port"));
        Assert.Equal(8443L, Value(Table(Real(Service(root, 0), 1), "check"), "port"));
        Assert.Equal(1L, Value(Table(Service(root, 1), "check"), "fall")); // retry 0
    }

    [Fact]
    public void Include_resolves_globs_relative_to_the_file()
    {
        var f = Fixture("include/keepalived.conf");
        var r = KeepalivedImporter.ImportFile(f);
        var c = LoadStripped(r);
        Assert.Equal([80, 443], c.Services.Select(s => (int)s.Port)); // 10-http.conf, then 20-https.conf
        Issue(r, "include/keepalived.conf", LineOf(f, "missing/"), ImportSeverity.Skipped, "include missing/*.conf");
        Issue(r, "include/services/20-https.conf", LineOf(Fixture("include/services/20-https.conf"), "bogus_keyword"),
            ImportSeverity.Skipped, "bogus_keyword");
        Assert.Contains("# " + Path.Combine(FixtureDir, "include", "services", "10-http.conf") + ":1: virtual_server 203.0.113.30 80", r.Toml);
    }

    [Fact]
    public void Broken_file_is_a_parse_error_with_its_line()
    {
        var f = Fixture("broken.conf");
        var e = Assert.Throws<KeepalivedParseException>(() => KeepalivedImporter.ImportFile(f));
        Assert.Equal(LineOf(f, "real_server 192.0.2.91"), e.Line);
        Assert.Equal(f, e.File);
    }

    [Fact]
    public void Missing_file_is_a_parse_error()
    {
        var e = Assert.Throws<KeepalivedParseException>(() => KeepalivedImporter.ImportFile("/nonexistent/keepalived.conf"));
        Assert.Contains("file not found", e.Message);
    }

    private static ImportResult Text(string text) => KeepalivedImporter.ImportText(text, "/tmp/k.conf");

    [Fact]
    public void Defaults_of_keepalived_are_written_out()
    {
        var r = Text("""
            virtual_server 192.0.2.1 80 {
                persistence_timeout
                real_server 192.0.2.2 80 {
                    TCP_CHECK {
                    }
                }
            }
            """);
        Issue(r, "k.conf", 1, ImportSeverity.Note, "virtual_server 192.0.2.1 80"); // no lvs_method: NAT, converted as TUN
        var s = LoadStripped(r).Services[0];
        Assert.Equal("wlc", s.Scheduler);
        Assert.Equal(360, s.PersistenceSeconds);
        var check = Table(Service(ParseToml(r.Toml), 0), "check");
        Assert.Equal(60.0, Value(check, "interval"));
        Assert.Equal(5.0, Value(check, "timeout"));
        Assert.Equal(2L, Value(check, "fall"));
        Assert.Equal(false, Value(check, "alpha"));
    }

    [Fact]
    public void Http_details()
    {
        var r = Text("""
            virtual_server 192.0.2.1 80 {
                lvs_method TUN
                delay_loop 3
                real_server 192.0.2.2 80 {
                    HTTP_GET {
                        url {
                            path /ping
                            status_code 200 204 500-599
                            regex "pong"
                            virtualhost api.example.net
                        }
                        connect_ip 192.0.2.2
                        retry 1
                        delay_before_retry 3
                    }
                }
            }
            """);
        var status = Issue(r, "k.conf", 8, ImportSeverity.Changed, "status_code");
        Assert.Contains("converted as 200", status.Why);
        Issue(r, "k.conf", 9, ImportSeverity.Note, "regex");
        // keepalived's default connect_timeout (5 s) is longer than delay_loop 3: TunLB's timeout is cut to the interval.
        Assert.Contains("timeout = 3 s", Issue(r, "k.conf", 5, ImportSeverity.Note, "HTTP_GET").Why);
        Assert.Equal(3, r.Issues.Count);
        var check = Table(Service(ParseToml(r.Toml), 0), "check");
        Assert.Equal("/ping", Value(check, "path"));
        Assert.Equal("200", Value(check, "expect_status"));
        Assert.Equal("pong", Value(check, "expect_body"));
        Assert.Equal("api.example.net", Value(check, "host"));
        Assert.Equal("tunnel", Value(check, "via"));
        Assert.Equal(3.0, Value(check, "timeout"));
        LoadStripped(r);
    }

    [Fact]
    public void Unmappable_items_are_reported_on_their_lines()
    {
        var r = Text("""
            @backup virtual_server 192.0.2.9 80 {
            }
            $PORT=80
            virtual_server 192.0.2.1 80 {
                lvs_method TUN type gue port 6080
                lvs_sched twos
                flag-3
                real_server 192.0.2.2 80 {
                    MISC_CHECK {
                        misc_path /bin/check nobody
                    }
                    TCP_CHECK {
                        connect_ip 192.0.2.99
                        bindto 192.0.2.250
                    }
                }
            }
            virtual_server 192.0.2.1 80 {
                lvs_method TUN
            }
            virtual_server 192.0.2.1 0 {
                lvs_method TUN
            }
            """);
        Issue(r, "k.conf", 1, ImportSeverity.Skipped, "@backup");
        Issue(r, "k.conf", 3, ImportSeverity.Skipped, "$PORT=80");
        Issue(r, "k.conf", 5, ImportSeverity.Changed, "lvs_method TUN type gue");
        Issue(r, "k.conf", 6, ImportSeverity.Changed, "lvs_sched twos");
        Issue(r, "k.conf", 7, ImportSeverity.Skipped, "flag-3");
        // keepalived passes the words after misc_path to the script as arguments (the user is a separate keyword).
        Assert.DoesNotContain(r.Issues, i => i.Line == 10);
        Issue(r, "k.conf", 12, ImportSeverity.Skipped, "TCP_CHECK");
        Issue(r, "k.conf", 18, ImportSeverity.Note, "virtual_server 192.0.2.1 80"); // the same service: merged
        Issue(r, "k.conf", 21, ImportSeverity.Skipped, "virtual_server 192.0.2.1 0");  // port 0 without persistence
        Assert.Equal(1, r.ServicesWritten);
        Assert.Equal("/bin/check nobody", Value(Table(Service(ParseToml(r.Toml), 0), "check"), "command"));
        LoadStripped(r);
    }

    [Fact]
    public void Ipv6_service_with_a_real_of_each_family()
    {
        var r = Text("""
            virtual_server 2001:db8::10 443 {
                lvs_method TUN
                real_server 2001:db8::11 443 {
                }
                real_server 192.0.2.11 443 {
                }
            }
            """);
        // The tunnel carries IPv6 in IPv4 (6in4), so an IPv4 real of an IPv6 VIP stays.
        Assert.Empty(r.Issues);
        var s = LoadStripped(r).Services[0];
        Assert.False(s.Vip.IsV4);
        Assert.Equal(["2001:db8::11", "192.0.2.11"], s.Reals.Select(x => x.Address.ToString()));
    }
}

/// <summary>keepalived's own doc/samples, when TUNLB_KEEPALIVED_SAMPLES names their directory (not committed: GPL-2).</summary>
public class KeepalivedSampleTests
{
    [FactWhenDirectory("TUNLB_KEEPALIVED_SAMPLES")]
    public void KeepalivedSamples_convert_and_load()
    {
        var dir = Environment.GetEnvironmentVariable("TUNLB_KEEPALIVED_SAMPLES")!;
        var files = Directory.GetFiles(dir, "keepalived.conf.*").Order(StringComparer.Ordinal).ToList();
        Assert.NotEmpty(files);
        foreach (var f in files)
        {
            var r = KeepalivedImporter.ImportFile(f);
            Assert.DoesNotContain(r.Issues, i => i.What == "converted output");
            LoadStripped(r);
            ParseToml(r.Toml);
            AssertFullOutputFailsOnlyOnNewKeys(r);
        }
    }
}
