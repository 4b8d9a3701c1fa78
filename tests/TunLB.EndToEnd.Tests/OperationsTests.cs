using System.Security.Cryptography;
using System.Text.RegularExpressions;
using TunLB.Lab;

namespace TunLB.EndToEnd.Tests;

/// <summary>A lab whose director starts with no services: everything is built with `tunlb adm`.</summary>
public sealed class EmptyDirectorLabFixture : IDisposable
{
    public StandardLab Lab { get; }
    public LabServices Services { get; }
    public string WorkDir { get; }
    public string ConfigPath => Path.Combine(WorkDir, "director.toml");
    public Topology T => Lab.Topology;

    public const string EmptyConfig = """
        [director]
        api = "127.0.0.1:9400"
        """;

    public EmptyDirectorLabFixture()
    {
        var prefix = Topology.NewPrefix();
        WorkDir = Path.Combine(Path.GetTempPath(), prefix + "ops");
        Lab = StandardLab.Build(prefix);
        try
        {
            Services = new LabServices(Lab, Tunlb.Command(), WorkDir);
            Services.StartRealServers();
            Services.StartDirector(EmptyConfig);
        }
        catch
        {
            Lab.Topology.Dispose();
            throw;
        }
    }

    /// <summary>Runs `tunlb adm ARGS` in the director's namespace (the API listens on its loopback).</summary>
    public Sh.Result Adm(params string[] args) => T.Try("director", 30_000, [Tunlb.Command()[0], "adm", .. args]);

    public Sh.Result AdmStdin(string stdin, params string[] args) =>
        Sh.Run("ip", ["netns", "exec", T.Ns("director"), Tunlb.Command()[0], "adm", .. args], 30_000, stdin);

    public Sh.Result Curl(params string[] args) => T.Try("client", 60_000, ["curl", "-s", "--max-time", "30", .. args]);

    public void Dispose()
    {
        Lab.Topology.Dispose();
        try { Directory.Delete(WorkDir, true); } catch { }
    }
}

/// <summary>Operating the director like ipvsadm/keepalived: adm, live changes, save/restore, reload, metrics.</summary>
public sealed class OperationsTests : IClassFixture<EmptyDirectorLabFixture>
{
    private readonly EmptyDirectorLabFixture _f;
    private static readonly string Vip = StandardLab.Vip;

    public OperationsTests(EmptyDirectorLabFixture f)
    {
        _f = f;
        EnsureService();
    }

    private void EnsureService()
    {
        var list = _f.Adm("-L", "-n");
        Assert.True(list.ExitCode == 0, list.Stderr + list.Stdout);
        if (list.Stdout.Contains($"TCP  {Vip}:80")) return;
        AssertOk(_f.Adm("-A", "-t", $"{Vip}:80", "-s", "rr"));
        foreach (var rs in StandardLab.RealServers)
            AssertOk(_f.Adm("-a", "-t", $"{Vip}:80", "-r", $"{rs.Address}:80", "-i", "-w", "1"));
    }

    private static void AssertOk(Sh.Result r) => Assert.True(r.ExitCode == 0, $"exit {r.ExitCode}: {r.Stderr}{r.Stdout}");

    private Dictionary<string, int> Spread(int n)
    {
        var counts = new Dictionary<string, int>();
        for (int i = 0; i < n; i++)
        {
            var r = _f.Curl($"http://{Vip}/");
            AssertOk(r);
            counts[r.Stdout.Trim()] = counts.GetValueOrDefault(r.Stdout.Trim()) + 1;
        }
        return counts;
    }

    [Fact]
    public void ServiceBuiltWithAdmCarriesTrafficAndListsLikeIpvsadm()
    {
        var counts = Spread(9);
        Assert.Equal(new[] { "rs1", "rs2", "rs3" }, counts.Keys.Order().ToArray());

        var l = _f.Adm("-L", "-n");
        AssertOk(l);
        var lines = l.Stdout.Split('\n');
        Assert.Matches(@"^IP Virtual Server version \d+\.\d+\.\d+ \(size=\d+\)$", lines[0]);
        Assert.Equal("Prot LocalAddress:Port Scheduler Flags", lines[1]);
        Assert.Equal("  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn", lines[2]);
        Assert.StartsWith($"TCP  {Vip}:80 rr", lines[3]);
        Assert.Matches(@"^  -> 192\.0\.2\.11:80\s+Tunnel\s+1\s+\d+\s+\d+\s*$", lines[4]);

        var s = _f.Adm("-L", "-n", "--stats");
        AssertOk(s);
        Assert.Equal("Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes", s.Stdout.Split('\n')[1]);
        Assert.Equal("  -> RemoteAddress:Port", s.Stdout.Split('\n')[2]);

        var rate = _f.Adm("-L", "-n", "--rate");
        AssertOk(rate);
        Assert.Equal("Prot LocalAddress:Port                 CPS    InPPS   OutPPS    InBPS   OutBPS", rate.Stdout.Split('\n')[1]);
    }

    [Fact]
    public void ForwardingMethodsOtherThanTunnelAreRefused()
    {
        var g = _f.Adm("-a", "-t", $"{Vip}:80", "-r", "192.0.2.99:80", "-g");
        Assert.NotEqual(0, g.ExitCode);
        Assert.Contains("tunnel", (g.Stderr + g.Stdout).ToLowerInvariant());
        var m = _f.Adm("-a", "-t", $"{Vip}:80", "-r", "192.0.2.99:80", "-m");
        Assert.NotEqual(0, m.ExitCode);
    }

    [Fact]
    public void WeightChangeDuringLongDownloadMovesNewConnectionsAndKeepsTheDownload()
    {
        // A slow download through the VIP; find which real server serves it from the conn list. About 20 s: at 30 kB/s it
        // ended after 8.5 s at load 50 before any `tunlb adm -L -c` (each a process start of seconds) caught it ESTABLISHED.
        var outFile = Path.Combine(_f.WorkDir, "slow.bin");
        var dl = _f.T.Start("client", "slow-download", "curl", "-sS", "--max-time", "90", "--limit-rate", "15k", "-o", outFile, $"http://{Vip}/blob");
        string? server = null;
        string listing = "";
        var sw = System.Diagnostics.Stopwatch.StartNew();
        // Each look is a `tunlb adm` process start (a second or more on a loaded machine): look until found, or the download ended.
        while (server == null && !dl.HasExited && sw.ElapsedMilliseconds < 30_000)
        {
            listing = _f.Adm("-L", "-n", "-c").Stdout;
            var m = Regex.Match(listing, @"TCP\s+\S+\s+ESTABLISHED\s+198\.51\.100\.10:\d+\s+203\.0\.113\.10:80\s+(\S+):80");
            if (m.Success) server = m.Groups[1].Value;
            else Thread.Sleep(100);
        }
        Assert.True(server != null, $"no established download in the connection list after {sw.ElapsedMilliseconds} ms; curl " +
            (dl.HasExited ? $"exited {dl.ExitCode}: {dl.Output}" : "still running") + $"\nlast listing:\n{listing}\ndirector:\n{_f.Services.Director!.Output}");

        AssertOk(_f.Adm("-e", "-t", $"{Vip}:80", "-r", $"{server}:80", "-i", "-w", "0"));
        try
        {
            var counts = Spread(6);
            var role = StandardLab.RealServers.Single(r => r.Address == server).Role;
            Assert.False(counts.ContainsKey(role), $"weight-0 server {role} got new connections: {string.Join(",", counts)}");

            Assert.True(dl.WaitForExit(90_000), "the download did not finish in 90 s");
            Assert.True(dl.ExitCode == 0, $"curl exited {dl.ExitCode}: {dl.Output}");
            Assert.Equal(_f.Services.BlobSha256, Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(outFile))));
        }
        finally
        {
            _f.Adm("-e", "-t", $"{Vip}:80", "-r", $"{server}:80", "-i", "-w", "1");
        }
    }

    [Fact]
    public void SaveClearRestoreReproducesTheSameListing()
    {
        AssertOk(_f.Adm("-A", "-u", $"{Vip}:53", "-s", "wlc", "-p", "120"));
        AssertOk(_f.Adm("-a", "-u", $"{Vip}:53", "-r", "192.0.2.11:53", "-i", "-w", "3", "-x", "100", "-y", "50"));
        try
        {
            var before = _f.Adm("-L", "-n");
            AssertOk(before);
            var saved = _f.Adm("-S", "-n");
            AssertOk(saved);
            Assert.Contains($"-A -t {Vip}:80 -s rr", saved.Stdout);

            AssertOk(_f.Adm("-C"));
            var empty = _f.Adm("-L", "-n");
            Assert.DoesNotContain(Vip, empty.Stdout);

            AssertOk(_f.AdmStdin(saved.Stdout, "-R"));
            var after = _f.Adm("-L", "-n");
            Assert.Equal(Normalize(before.Stdout), Normalize(after.Stdout));
        }
        finally
        {
            _f.Adm("-D", "-u", $"{Vip}:53");
        }
    }

    // Connection counters are live; compare the configuration columns only.
    private static string Normalize(string listing) =>
        Regex.Replace(listing, @"(Tunnel\s+\d+)\s+\d+\s+\d+", "$1");

    [Fact]
    public void BrokenConfigOnSighupChangesNothingAndLogsTheLine()
    {
        var before = _f.Adm("-L", "-n");
        AssertOk(before);
        var original = File.ReadAllText(_f.ConfigPath);
        File.WriteAllText(_f.ConfigPath, """
            [director]
            api = "127.0.0.1:9400"

            [[service]]
            vip = "203.0.113.10"
            port = 80
            protocol = "tcp"
            scheduler = "nope"
            """);
        try
        {
            Sh.Ok("kill", "-HUP", _f.Services.Director!.Pid.ToString());
            Assert.True(_f.Services.Director.WaitForOutput($"{_f.ConfigPath}:8", 60_000), _f.Services.Director.Output);
            var after = _f.Adm("-L", "-n");
            Assert.Equal(Normalize(before.Stdout), Normalize(after.Stdout));
            Assert.Contains("rs", _f.Curl($"http://{Vip}/").Stdout);
            Assert.False(_f.Services.Director.HasExited, _f.Services.Director.Output); // still running after the listing and a request
        }
        finally
        {
            File.WriteAllText(_f.ConfigPath, original);
        }
    }

    [Fact]
    public void MetricsPassPromtoolAndNameTheBackends()
    {
        Spread(3);
        var m = _f.T.Try("director", 30_000, "curl", "-s", "--max-time", "10", "http://127.0.0.1:9400/metrics");
        AssertOk(m);
        Assert.Contains("tunlb_backend_connections_active{", m.Stdout);
        Assert.Contains("tunlb_service_connections_total{", m.Stdout);
        Assert.Contains($"real=\"192.0.2.11:80\"", m.Stdout);
        Assert.Contains("tunlb_dropped_packets_total{reason=", m.Stdout);
        if (!Sh.Exists("promtool")) return; // installed by scripts/install-deps; absent only outside CI
        var p = Sh.Run("promtool", ["check", "metrics"], 30_000, m.Stdout);
        Assert.True(p.ExitCode == 0, p.Stdout + p.Stderr);
    }

    [Fact]
    public void ARealPrometheusScrapesTheDirector()
    {
        if (!Sh.Exists("prometheus")) return; // installed by scripts/install-deps
        var dir = Path.Combine(_f.WorkDir, "prom");
        Directory.CreateDirectory(dir);
        var conf = Path.Combine(dir, "prometheus.yml");
        File.WriteAllText(conf, """
            global:
              scrape_interval: 1s
            scrape_configs:
              - job_name: tunlb
                static_configs:
                  - targets: ['127.0.0.1:9400']
            """);
        var prom = _f.T.Start("director", "prometheus", "prometheus", $"--config.file={conf}", $"--storage.tsdb.path={dir}/data",
            "--web.listen-address=127.0.0.1:9091");
        try
        {
            string body = "";
            for (int i = 0; i < 60; i++)
            {
                Thread.Sleep(500);
                var q = _f.T.Try("director", 10_000, "curl", "-s", "--max-time", "5",
                    "http://127.0.0.1:9091/api/v1/query?query=tunlb_backend_weight");
                body = q.Stdout;
                if (body.Contains("192.0.2.11:80")) break;
            }
            Assert.Contains("\"status\":\"success\"", body);
            Assert.Contains("192.0.2.11:80", body);
            var up = _f.T.Try("director", 10_000, "curl", "-s", "http://127.0.0.1:9091/api/v1/query?query=up");
            Assert.Contains("\"1\"]", up.Stdout);
        }
        finally
        {
            prom.Stop();
        }
    }
}

/// <summary>Start-up refusals of the management API.</summary>
public sealed class ApiSecurityTests : IDisposable
{
    private readonly Topology _t = new(Topology.NewPrefix());
    private readonly string _dir = Directory.CreateTempSubdirectory("tunlb-e2e-").FullName;

    public void Dispose()
    {
        _t.Dispose();
        try { Directory.Delete(_dir, true); } catch { }
    }

    [Fact]
    public void NonLoopbackApiWithoutTokenRefusesToStart()
    {
        _t.Host("d");
        _t.Link("d", "eth0", "203.0.113.2/29", "d", "peer", "203.0.113.3/29");
        var cfg = Path.Combine(_dir, "director.toml");
        File.WriteAllText(cfg, """
            [director]
            api = "203.0.113.2:9400"
            """);
        var r = _t.Try("d", 30_000, Tunlb.Command()[0], "director", "--config", cfg);
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("api_token", r.Stderr + r.Stdout);
        Assert.DoesNotContain("tunlb0", _t.Exec("d", "ip", "-o", "link", "show"));
    }

    [Fact]
    public void TokenProtectedApiRefusesUnauthenticatedRequests()
    {
        _t.Host("d");
        _t.Link("d", "eth0", "203.0.113.2/29", "d", "peer", "203.0.113.3/29");
        var cfg = Path.Combine(_dir, "director.toml");
        File.WriteAllText(cfg, """
            [director]
            api = "203.0.113.2:9400"
            api_token = "s3cret-token-for-tests"
            """);
        var d = _t.Start("d", "director", Tunlb.Command()[0], "director", "--config", cfg);
        Assert.True(d.WaitForOutput(LabServices.DirectorReady, LabServices.StartTimeoutMs), d.Output);
        var anon = _t.Try("d", 10_000, "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "http://203.0.113.2:9400/api/v1/services");
        Assert.Equal("401", anon.Stdout.Trim());
        var anonMetrics = _t.Try("d", 10_000, "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "http://203.0.113.2:9400/metrics");
        Assert.Equal("401", anonMetrics.Stdout.Trim());
        var ok = _t.Try("d", 10_000, "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Authorization: Bearer s3cret-token-for-tests", "http://203.0.113.2:9400/api/v1/services");
        Assert.Equal("200", ok.Stdout.Trim());
    }
}
