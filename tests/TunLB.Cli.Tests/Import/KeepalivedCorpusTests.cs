using TunLB.Cli.Commands;
using TunLB.Cli.Import;
using static TunLB.Cli.Tests.Import.ImportTestSupport;

namespace TunLB.Cli.Tests.Import;

/// <summary>
/// tests/fixtures/keepalived/corpus: each file states in its header what the import must say about it
/// (<c># expect-exit: N</c>, <c># expect-services: N</c>, <c># expect: SEVERITY WHAT</c>). Every changed or skipped
/// item must be expected (so the exit code agrees with the report), every expected item must be reported, and what
/// the import writes must pass the director's own check (<c>tunlb director --check</c>).
/// </summary>
public class KeepalivedCorpusTests
{
    public static TheoryData<string> Files()
    {
        var data = new TheoryData<string>();
        foreach (var f in Directory.GetFiles(Path.Combine(FixtureDir, "corpus"), "*.conf").Order(StringComparer.Ordinal))
            data.Add(Path.GetFileName(f));
        return data;
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Corpus_file_imports_as_its_header_says_and_loads(string name)
    {
        var path = Path.Combine(FixtureDir, "corpus", name);
        var header = File.ReadLines(path).TakeWhile(l => l.StartsWith('#')).ToList();
        int exit = int.Parse(Value(header, "expect-exit")!);
        int services = int.Parse(Value(header, "expect-services")!);
        var expected = header.Where(l => l.StartsWith("# expect: ", StringComparison.Ordinal))
            .Select(l => l["# expect: ".Length..].Split(' ', 2)).Select(p => (Severity: p[0], What: p[1])).ToList();

        var r = KeepalivedImporter.ImportFile(path);
        var report = string.Join('\n', r.Issues);
        foreach (var (sev, what) in expected)
            Assert.True(r.Issues.Any(i => i.SeverityName == sev && i.What.StartsWith(what, StringComparison.Ordinal) && i.File.EndsWith(name, StringComparison.Ordinal)),
                $"{name}: expected {sev} \"{what}\"; report:\n{report}");
        foreach (var i in r.Issues.Where(i => i.Severity != ImportSeverity.Note))
            Assert.True(expected.Any(e => e.Severity == i.SeverityName && i.What.StartsWith(e.What, StringComparison.Ordinal)),
                $"{name}: unexpected {i}");
        Assert.Equal(exit, r.ExitCode);
        Assert.Equal(services, r.ServicesWritten);

        // What is written passes the director's check (loader, health checks, quorum, model), as `tunlb director --check`.
        Assert.Empty(ConfigCheck.DirectorErrors(r.Toml, name + ".toml"));
        var dir = Directory.CreateTempSubdirectory("tunlb-corpus-");
        try
        {
            var written = Path.Combine(dir.FullName, "director.toml");
            Assert.Equal(exit, ImportCommand.Run(path, written, TextWriter.Null, TextWriter.Null));
            Assert.Equal(0, ConfigCheck.Director(new FileInfo(written)));
            Assert.Equal(services, TunLB.Control.Configuration.ConfigLoader.LoadDirector(written).Services.Count);
        }
        finally { dir.Delete(true); }
    }

    private static string? Value(List<string> header, string key) =>
        header.FirstOrDefault(l => l.StartsWith($"# {key}: ", StringComparison.Ordinal))?[($"# {key}: ").Length..].Trim();

    private static TTableLike Check(ImportResult r, int service, int real = -1)
    {
        var root = ParseToml(r.Toml);
        var s = Service(root, service);
        return new TTableLike(Table(s, "check"), real < 0 ? null : Table(Real(s, real), "check"));
    }

    /// <summary>A real's effective check key: its own table first, then the service's.</summary>
    private sealed record TTableLike(TunLB.Control.Configuration.TTable? Service, TunLB.Control.Configuration.TTable? Real)
    {
        public object? this[string key] => ImportTestSupport.Value(Real, key) ?? ImportTestSupport.Value(Service, key);
    }

    private static ImportResult Corpus(string name) => KeepalivedImporter.ImportFile(Path.Combine(FixtureDir, "corpus", name));

    [Fact]
    public void Dns_check_is_keepalived_s_query_and_keeps_type_and_name()
    {
        var r = Corpus("dns-tcp.conf");
        var tcp = Check(r, 0, 0);
        Assert.Equal("dns", tcp["type"]);
        Assert.Equal("A", tcp["query_type"]);
        Assert.Equal("www.example.org", tcp["query_name"]);
        Assert.Equal(false, tcp["require_answer"]);
        Assert.Equal(53L, tcp["port"]); // UDP to the real's port although the service is TCP, as keepalived
        var udp = Check(r, 1, 0);
        Assert.Equal("SOA", udp["query_type"]);
        Assert.Equal(".", udp["query_name"]);
        Assert.Equal(false, udp["require_answer"]);
        Assert.Equal(4L, udp["fall"]); // DNS_CHECK retry default 3
    }

    [Fact]
    public void Udp_check_silence_payload_and_require_reply()
    {
        var r = Corpus("udp-check.conf");
        Assert.Equal(false, Check(r, 0, 0)["require_reply"]);
        Assert.Equal(true, Check(r, 0, 1)["require_reply"]);
        Assert.Equal("<134>test", Check(r, 0, 0)["payload"]);
        var cfg = TunLB.Control.Configuration.ConfigLoader.ParseDirector(r.Toml, "udp.toml");
        var h = cfg.Services[0].Health;
        Assert.False(h.CheckFor(cfg.Services[0].Reals[0].Address).RequireReply);
        Assert.True(h.CheckFor(cfg.Services[0].Reals[1].Address).RequireReply);
        Assert.Equal("<134>test", h.CheckFor(cfg.Services[0].Reals[0].Address).Payload);
    }

    [Fact]
    public void Misc_scripts_per_real_keep_their_arguments()
    {
        var r = Corpus("misc-per-real.conf");
        Assert.Equal("none", Check(r, 0)["type"]);
        Assert.Equal("misc", Check(r, 0, 0)["type"]);
        Assert.Equal("/etc/keepalived/check_mysql.sh 192.0.2.21", Check(r, 0, 0)["command"]);
        Assert.Equal("/etc/keepalived/check_mysql.sh 192.0.2.22", Check(r, 0, 1)["command"]);
        Assert.Equal(5.0, Check(r, 0, 1)["timeout"]);
    }

    [Fact]
    public void Short_delay_loop_cuts_the_timeout_to_the_interval()
    {
        var c = Check(Corpus("short-delay-loop.conf"), 0);
        Assert.Equal(2.0, c["interval"]);
        Assert.Equal(2.0, c["timeout"]);
        Assert.Equal(3L, c["fall"]);
    }

    [Fact]
    public void Out_of_range_values_are_clamped_or_ignored_as_keepalived_does()
    {
        var r = Corpus("out-of-range.conf");
        var c = Check(r, 0);
        Assert.Equal(3600.0, c["interval"]);
        Assert.Equal(5.0, c["timeout"]);    // connect_timeout 0 ignored: keepalived's 5 s
        Assert.Equal(1000L, c["fall"]);
        Assert.Equal("/health", c["path"]);
    }

    [Fact]
    public void Groups_yield_a_service_per_member_with_the_member_port()
    {
        var cfg = TunLB.Control.Configuration.ConfigLoader.ParseDirector(Corpus("groups.conf").Toml, "g.toml");
        Assert.Equal(["203.0.113.70:80", "203.0.113.80:8080", "203.0.113.81:8080", "203.0.113.82:8080", "[2001:db8:70::1]:80"],
            cfg.Services.Select(s => s.Vip.IsV4 ? $"{s.Vip}:{s.Port}" : $"[{s.Vip}]:{s.Port}"));
        Assert.All(cfg.Services.Skip(1).Take(3), s => Assert.Equal(8080, (int)Assert.Single(s.Reals).Port));
    }

    [Fact]
    public void Duplicate_blocks_merge_and_mixed_families_stay()
    {
        var dup = TunLB.Control.Configuration.ConfigLoader.ParseDirector(Corpus("duplicate-block.conf").Toml, "d.toml");
        Assert.Equal(["192.0.2.91", "192.0.2.92", "192.0.2.93"], Assert.Single(dup.Services).Reals.Select(x => x.Address.ToString()));
        var v6 = TunLB.Control.Configuration.ConfigLoader.ParseDirector(Corpus("ipv6-mixed.conf").Toml, "v6.toml");
        Assert.Equal(3, v6.Services[0].Reals.Count);
        Assert.Equal("2001:db8:101::2", Assert.Single(v6.Services[1].Reals).Address.ToString());
    }

    [Fact]
    public void Loopback_sorry_server_is_a_comment()
    {
        var r = Corpus("sorry-loopback.conf");
        Assert.Null(Table(Service(ParseToml(r.Toml), 0), "sorry"));
        Assert.Contains("# [service.sorry]", r.Toml);
    }
}
