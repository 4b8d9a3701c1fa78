using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using TunLB.Lab;

namespace TunLB.EndToEnd.Tests;

/// <summary>
/// A lab whose director health-checks rs1 and rs2 over HTTP through the tunnel (interval 1 s, rise 2,
/// fall 2) with rs3 as the sorry server; the HTTP servers are started here so tests can stop them.
/// </summary>
public sealed class HealthLabFixture : IDisposable
{
    public const double Interval = 1.0;
    public const int Rise = 2, Fall = 2;

    public StandardLab Lab { get; }
    public LabServices Services { get; }
    public string WorkDir { get; }
    public Topology T => Lab.Topology;
    public TunLB.Lab.Capture Uplink { get; }
    public Dictionary<string, BackgroundProcess> Http { get; } = new();

    public static string Config => $$"""
        [director]
        api = "127.0.0.1:9400"
        check_port_range = "61000-61099"

        [[service]]
        vip = "{{StandardLab.Vip}}"
        port = 80
        scheduler = "rr"

        [service.check]
        type = "http"
        path = "/index.html"
        expect_status = "200-399"
        interval = {{Interval:0.0}}
        timeout = 0.5
        rise = {{Rise}}
        fall = {{Fall}}

        [service.sorry]
        address = "192.0.2.131"

        [[service.real]]
        address = "192.0.2.11"

        [[service.real]]
        address = "192.0.2.12"

        [[service]]
        vip = "{{StandardLab.Vip}}"
        port = 53
        protocol = "udp"
        scheduler = "rr"

        [service.check]
        type = "udp"
        payload = "tunlb-ping\n"
        expect = "tunlb-ping"
        interval = {{Interval:0.0}}
        timeout = 0.5
        rise = {{Rise}}
        fall = {{Fall}}

        [[service.real]]
        address = "192.0.2.11"

        [[service.real]]
        address = "192.0.2.12"
        """;

    /// <summary>A UDP echo server bound to VIP:53 (the UDP service's real service).</summary>
    public const string UdpEcho =
        "import socket,sys\n" +
        "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.bind(('" + StandardLab.Vip + "',53)); print('echo ready',flush=True)\n" +
        "while True:\n d,a=s.recvfrom(2048); s.sendto(d,a)\n";

    public HealthLabFixture()
    {
        var prefix = Topology.NewPrefix();
        WorkDir = Path.Combine(Path.GetTempPath(), prefix + "health");
        Lab = StandardLab.Build(prefix);
        try
        {
            Services = new LabServices(Lab, Tunlb.Command(), WorkDir);
            Services.StartRealServers(http: false);
            foreach (var rs in StandardLab.RealServers) StartHttp(rs.Role);
            foreach (var role in new[] { "rs1", "rs2" }) StartEcho(role);
            // Strict reverse-path filtering on the director: check replies come from the VIP (routed into the
            // capture device) on eth0, so the director must switch eth0 to loose mode for them to arrive.
            Netns.Sysctl(T.Ns("director"), "net.ipv4.conf.all.rp_filter", "1");
            Netns.Sysctl(T.Ns("director"), "net.ipv4.conf.eth0.rp_filter", "1");
            Uplink = TunLB.Lab.Capture.Start(T, "director", "eth0", Path.Combine(WorkDir, "uplink.pcap"), "ip proto 4");
            Services.StartDirector(Config);
        }
        catch
        {
            Lab.Topology.Dispose();
            throw;
        }
    }

    public void StartHttp(string role)
    {
        var root = Path.Combine(WorkDir, "www-" + role);
        Directory.CreateDirectory(root);
        File.WriteAllText(Path.Combine(root, "index.html"), role + "\n");
        if (!File.Exists(Path.Combine(root, "blob")))
        {
            var blob = new byte[LabServices.BlobSize];
            new Random(42).NextBytes(blob);
            File.WriteAllBytes(Path.Combine(root, "blob"), blob);
        }
        var web = T.Start(role, $"http-{role}-{Environment.TickCount64}", "python3", "-u", "-m", "http.server", "80",
            "--bind", StandardLab.Vip, "--directory", root);
        if (!web.WaitForOutput("Serving HTTP", LabServices.StartTimeoutMs)) throw new InvalidOperationException($"HTTP on {role} did not start:\n{web.Output}");
        Http[role] = web;
    }

    public void StartEcho(string role)
    {
        var p = T.Start(role, $"echo-{role}-{Environment.TickCount64}", "python3", "-u", "-c", UdpEcho);
        if (!p.WaitForOutput("echo ready", LabServices.StartTimeoutMs)) throw new InvalidOperationException($"UDP echo on {role} did not start:\n{p.Output}");
        Echo[role] = p;
    }

    public Dictionary<string, BackgroundProcess> Echo { get; } = new();

    public void StopHttp(string role)
    {
        Http[role].Stop(9, 2000);
        Http.Remove(role);
    }

    public Sh.Result Api(params string[] args) =>
        T.Try("director", 20_000, ["curl", "-s", "--max-time", "10", .. args.Select(a => a.StartsWith("/") ? "http://127.0.0.1:9400" + a : a)]);

    public JsonElement Health() => JsonDocument.Parse(Api("/api/v1/health").Stdout).RootElement;

    public string Status(string addr, int service = 0) =>
        Health().GetProperty("services")[service].GetProperty("reals").EnumerateArray()
            .First(r => r.GetProperty("address").GetString() == addr).GetProperty("health").GetProperty("status").GetString()!;

    public void WaitStatus(string addr, string status, double seconds, int service = 0)
    {
        var sw = Stopwatch.StartNew();
        string last = "";
        while (sw.Elapsed.TotalSeconds < seconds)
        {
            try { if ((last = Status(addr, service)) == status) return; } catch (Exception e) { last = e.Message; }
            Thread.Sleep(200);
        }
        throw new Xunit.Sdk.XunitException($"{addr} did not become {status} within {seconds} s (last: {last})\n{Services.Director!.Output}");
    }

    /// <summary>One request from the client: the real's role name, or "ERR" when it failed.</summary>
    public string Get(string? localPorts = null)
    {
        string[] port = localPorts is null ? [] : ["--local-port", localPorts];
        var r = T.Try("client", 10_000, ["curl", "-s", "--max-time", "2", .. port, $"http://{StandardLab.Vip}/index.html"]);
        return r.ExitCode == 0 ? r.Stdout.Trim() : "ERR";
    }

    public void Dispose()
    {
        Lab.Topology.Dispose();
        try { Directory.Delete(WorkDir, true); } catch { }
    }
}

[Collection("health")]
public sealed class HealthCheckTests : IClassFixture<HealthLabFixture>
{
    private readonly HealthLabFixture _f;
    public HealthCheckTests(HealthLabFixture f) { _f = f; }

    private static double Deadline => HealthLabFixture.Interval * HealthLabFixture.Fall + 1.0;

    /// <summary>Bound for the first "up" of a fresh fixture (its daemons may still be starting on a loaded machine).</summary>
    private const double StartSeconds = 60;

    [Fact]
    public void StoppedServerLeavesWithinIntervalTimesFallAndRejoinsAfterRise()
    {
        _f.WaitStatus("192.0.2.11", "up", StartSeconds);
        _f.WaitStatus("192.0.2.12", "up", StartSeconds);
        var before = Enumerable.Range(0, 6).Select(_ => _f.Get()).ToList();
        Assert.Contains("rs1", before);
        Assert.Contains("rs2", before);

        // Stop HTTP on rs1 under a request loop; after interval x fall + 1 s nothing may go to it.
        _f.StopHttp("rs1");
        var sw = Stopwatch.StartNew();
        var late = new List<string>();
        while (sw.Elapsed.TotalSeconds < Deadline + 3)
        {
            var r = _f.Get();
            if (sw.Elapsed.TotalSeconds > Deadline) late.Add(r);
        }
        Assert.NotEmpty(late);
        Assert.All(late, r => Assert.Equal("rs2", r)); // a request scheduled to rs1 would fail: ERR
        Assert.Equal("down", _f.Status("192.0.2.11"));
        Assert.Matches(@"tunlb director: health: real 192\.0\.2\.11:80 of tcp 203\.0\.113\.10:80 DOWN \(2/2 failures; last: .+\); removed from scheduling",
            _f.Services.Director!.Output);

        // Back: rejoins after rise successes.
        _f.StartHttp("rs1");
        _f.WaitStatus("192.0.2.11", "up", HealthLabFixture.Interval * (HealthLabFixture.Rise + 1) + 3);
        var after = Enumerable.Range(0, 6).Select(_ => _f.Get()).ToList();
        Assert.Contains("rs1", after);
        Assert.DoesNotContain("ERR", after);
        Assert.Contains("tunlb director: health: real 192.0.2.11:80 of tcp 203.0.113.10:80 UP (2/2 successes", _f.Services.Director!.Output);

        // Metrics say so too.
        var m = _f.Api("/metrics").Stdout;
        Assert.Matches(@"tunlb_backend_check_up_down_total\{vip=""203\.0\.113\.10"",port=""80"",proto=""tcp"",real=""192\.0\.2\.11:80""\} 2", m);
        Assert.Matches(@"tunlb_backend_up\{[^}]*real=""192\.0\.2\.11:80""\} 1", m);
    }

    [Fact]
    public void DirectorLoosensStrictReversePathFilteringForCheckReplies()
    {
        Assert.Contains("rp_filter eth0=2 (check replies come from the VIP)", _f.Services.Director!.Output);
        Assert.Equal("2", _f.T.Exec("director", "sysctl", "-n", "net.ipv4.conf.eth0.rp_filter").Trim());
        // The checks themselves succeed (with strict filtering every reply would be dropped: timeouts).
        var sw = Stopwatch.StartNew();
        JsonElement h = default;
        while (sw.Elapsed.TotalSeconds < 10)
        {
            h = _f.Health().GetProperty("services")[0].GetProperty("reals").EnumerateArray()
                .First(r => r.GetProperty("address").GetString() == "192.0.2.12").GetProperty("health");
            if (h.TryGetProperty("last_ok", out var ok) && ok.ValueKind == JsonValueKind.True) break;
            Thread.Sleep(200);
        }
        Assert.True(h.GetProperty("last_ok").GetBoolean(), h.ToString());
        Assert.StartsWith("status 200", h.GetProperty("last_result").GetString());
    }

    [Fact]
    public void CheckPacketsAreEncapsulatedToTheServerTheyCheck()
    {
        _f.WaitStatus("192.0.2.11", "up", StartSeconds);
        _f.WaitStatus("192.0.2.12", "up", StartSeconds);
        // Outer: director -> real, IPIP. Inner: director's own address -> VIP:80 from a pinned port (61000-61099).
        string Inner(string real) =>
            $"ip proto 4 and src host 203.0.113.2 and dst host {real} and ip[32:4] = 0xcb007102 and ip[36:4] = 0xcb00710a " +
            "and ip[42:2] = 80 and ip[40:2] >= 61000 and ip[40:2] <= 61099";
        // Both are up, so their checks' packets crossed the uplink; wait until tcpdump has written some of each.
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed.TotalSeconds < 30 && !new[] { "192.0.2.11", "192.0.2.12" }.All(r => _f.Uplink.CountSoFar(Inner(r)) > 0)) Thread.Sleep(200);
        foreach (var real in new[] { "192.0.2.11", "192.0.2.12" })
            Assert.True(_f.Uplink.Count(Inner(real)) > 0, $"no encapsulated check packets to {real}");
        // The SYNs of checks: every one went to exactly one real, the one it checks, so rs3 (the sorry server,
        // not checked, not active) got none.
        Assert.Equal(0, _f.Uplink.Count(Inner("192.0.2.131")));
        var h = _f.Health();
        Assert.True(h.GetProperty("pinned_check_packets").GetInt64() > 0);
    }

    [Fact]
    public void UdpChecksGoThroughTheTunnelToo()
    {
        // Both echo servers answer through the tunnel: up after a few rounds with a passing last check.
        _f.WaitStatus("192.0.2.11", "up", StartSeconds, service: 1);
        _f.WaitStatus("192.0.2.12", "up", StartSeconds, service: 1);
        var udp = "ip proto 4 and src host 203.0.113.2 and dst host 192.0.2.11 and ip[29] = 17 and ip[32:4] = 0xcb007102 " +
                  "and ip[36:4] = 0xcb00710a and ip[42:2] = 53 and ip[40:2] >= 61000 and ip[40:2] <= 61099";
        Assert.True(_f.Uplink.Count(udp) > 0, "no encapsulated UDP check datagrams to 192.0.2.11");

        _f.Echo["rs1"].Stop(9, 2000);
        _f.WaitStatus("192.0.2.11", "down", Deadline + 1, service: 1);
        Assert.Equal("up", _f.Status("192.0.2.12", 1));
        Assert.Matches(@"tunlb director: health: real 192\.0\.2\.11:53 of udp 203\.0\.113\.10:53 DOWN \(2/2 failures; last: ", _f.Services.Director!.Output);
        _f.StartEcho("rs1");
        _f.WaitStatus("192.0.2.11", "up", HealthLabFixture.Interval * (HealthLabFixture.Rise + 1) + 3, service: 1);
    }

    [Fact]
    public void AllRealsDownSendsClientsToTheSorryServer()
    {
        _f.WaitStatus("192.0.2.11", "up", StartSeconds);
        _f.WaitStatus("192.0.2.12", "up", StartSeconds);
        _f.StopHttp("rs1");
        _f.StopHttp("rs2");
        try
        {
            Thread.Sleep(TimeSpan.FromSeconds(Deadline));
            var got = Enumerable.Range(0, 4).Select(_ => _f.Get()).ToList();
            Assert.All(got, r => Assert.Equal("rs3", r));
            var svc = _f.Health().GetProperty("services")[0];
            Assert.False(svc.GetProperty("quorum_up").GetBoolean());
            Assert.True(svc.GetProperty("sorry_active").GetBoolean());
        }
        finally
        {
            _f.StartHttp("rs1");
            _f.StartHttp("rs2");
        }
        _f.WaitStatus("192.0.2.11", "up", 30); // back for the other tests (not a timing claim)
        _f.WaitStatus("192.0.2.12", "up", 30);
        var back = Enumerable.Range(0, 6).Select(_ => _f.Get()).ToList();
        Assert.DoesNotContain("rs3", back);
        Assert.Contains("rs1", back);
    }

    /// <summary>The held download's client port: below the client namespace's ephemeral range (32768–60999), so no
    /// earlier curl's connection or TIME_WAIT entry can hold it (their sockets lack SO_REUSEADDR, so bind would fail).</summary>
    private const int HeldClientPort = 31678;

    /// <summary>A download the test holds open: connects from port <see cref="HeldClientPort"/>, asks for /blob, reads the first 8 kB and
    /// prints "started"; reads the rest only once the file named by argv[1] exists (at most 60 s), then prints
    /// "done STATUS BODY-BYTES". A small receive buffer keeps most of the blob on the server's side meanwhile.</summary>
    private static readonly string HeldDownload =
        "import os,socket,sys,time\n" +
        "s=socket.socket(); s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1); s.setsockopt(socket.SOL_SOCKET,socket.SO_RCVBUF,8192)\n" +
        "s.bind(('0.0.0.0'," + HeldClientPort + ")); s.connect(('" + StandardLab.Vip + "',80))\n" +
        "s.sendall(b'GET /blob HTTP/1.0\\r\\nHost: " + StandardLab.Vip + "\\r\\n\\r\\n')\n" +
        "got=b''\n" +
        "while len(got)<8192:\n d=s.recv(8192)\n if not d: break\n got+=d\n" +
        "print('started',len(got),flush=True)\n" +
        "t=time.time()\n" +
        "while not os.path.exists(sys.argv[1]) and time.time()-t<60: time.sleep(0.05)\n" +
        "while True:\n d=s.recv(65536)\n if not d: break\n got+=d\n" +
        "head,_,body=got.partition(b'\\r\\n\\r\\n')\n" +
        "print('done',head.split()[1].decode() if head else '-',len(body),flush=True)\n";

    [Fact]
    public void DrainLetsTheDownloadFinishAndTakesNoNewConnections()
    {
        _f.WaitStatus("192.0.2.11", "up", StartSeconds);
        _f.WaitStatus("192.0.2.12", "up", StartSeconds);
        var go = Path.Combine(_f.WorkDir, "drain-go");
        File.Delete(go);
        // The test, not a rate limit, decides when the download ends: it stays in flight through the drain.
        var dl = _f.T.Start("client", "drain-download", "python3", "-u", "-c", HeldDownload, go);
        string? server = null;
        try
        {
            Assert.True(dl.WaitForOutput("started", 20_000), $"the held download did not start: {dl.Output}");
            // The fixed client port finds the download's own connection in the table (not an old entry).
            string c = "";
            for (int i = 0; i < 100 && server == null; i++)
            {
                c = _f.Api("/api/v1/connections").Stdout;
                var m = Regex.Match(c, @"""client"": ""198\.51\.100\.10"",\s*""client_port"": " + HeldClientPort + @",\s*""vip"": ""203\.0\.113\.10"",\s*""vip_port"": 80,\s*""real"": ""([0-9.]+)"",\s*""real_port"": 80,\s*""state"": ""ESTABLISHED""");
                if (m.Success) server = m.Groups[1].Value;
                else Thread.Sleep(100);
            }
            Assert.True(server is not null, $"no established download found; client: {dl.Output}\nconnections: {c}\nhealth: {_f.Api("/api/v1/health").Stdout}");
            Assert.Contains(server, new[] { "192.0.2.11", "192.0.2.12" });
            var role = server == "192.0.2.11" ? "rs1" : "rs2";

            // tunlb adm -d --drain: drain, then delete when idle (the API's POST .../drain {"remove_when_idle": true}).
            var adm = _f.T.Try("director", 20_000, Tunlb.Command()[0], "adm", "-d", "-t", $"{StandardLab.Vip}:80", "-r", $"{server}:80", "--drain");
            Assert.True(adm.ExitCode == 0, adm.Stderr + adm.Stdout);
            Assert.True(_f.Api("/api/v1/services/tcp/203.0.113.10/80").Stdout.Contains("\"draining\": true"),
                $"{server} not draining with the download in flight; client: {dl.Output}\n{_f.Services.Director!.Output}");
            // The download counts as an active connection of the draining real (at least it: others may be open).
            Assert.Matches($@"draining real {Regex.Escape(server)}:80 of service tcp 203\.0\.113\.10:80 \(delete when idle\); [1-9][0-9]* active connection\(s\)",
                _f.Services.Director!.Output);
            // Ephemeral client ports, as any client: one may reuse the 5-tuple of an earlier, closed connection
            // still in the director's table, which must then be scheduled afresh (not follow the old entry).
            var during = Enumerable.Range(0, 12).Select(_ => _f.Get()).ToList();
            Assert.True(!during.Contains(role), $"{role} ({server}) drained but got new connections: {string.Join(" ", during)}\n" +
                $"{_f.Api("/api/v1/services").Stdout}\n{_f.Api("/api/v1/connections").Stdout}\n{_f.Services.Director!.Output}");
            // Still in flight, still on the draining real: not deleted while it has a connection.
            Assert.False(dl.HasExited, $"the held download ended by itself: {dl.Output}");
            Assert.Contains($"\"address\": \"{server}\"", _f.Api("/api/v1/services/tcp/203.0.113.10/80").Stdout);

            // Let it finish: every byte arrives through the drained real.
            File.WriteAllText(go, "");
            Assert.True(dl.WaitForOutput($"done 200 {LabServices.BlobSize}", 30_000), dl.Output);
            // Idle now: deleted (drain before delete).
            var sw = Stopwatch.StartNew();
            const string tcp80 = "/api/v1/services/tcp/203.0.113.10/80";
            while (sw.Elapsed.TotalSeconds < 5 && _f.Api(tcp80).Stdout.Contains($"\"address\": \"{server}\"")) Thread.Sleep(200);
            Assert.DoesNotContain($"\"address\": \"{server}\"", _f.Api(tcp80).Stdout);
            Assert.Contains($"drained real {server}:80 of tcp 203.0.113.10:80 is idle: deleted", _f.Services.Director!.Output);
        }
        finally
        {
            File.WriteAllText(go, "");
            dl.Stop(9, 2000);
            // Put it back for the other tests, also after a failure (a reload makes the runtime match the file again).
            if (server is not null)
            {
                Assert.Contains("\"ok\": true", _f.Api("-X", "POST", "/api/v1/reload").Stdout);
                _f.WaitStatus(server, "up", 30);
            }
        }
    }
}
