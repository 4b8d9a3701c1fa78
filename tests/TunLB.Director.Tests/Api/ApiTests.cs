using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using TunLB.Control.Api;
using TunLB.Control.Configuration;
using TunLB.Director.Api;
using TunLB.Director.Management;
using Xunit.Abstractions;
using static TunLB.Director.Tests.Fixtures;

namespace TunLB.Director.Tests.Api;

/// <summary>The real Kestrel server on 127.0.0.1 with a random free port, over a DirectorState (no TUN needed).</summary>
public sealed class ApiTests : IAsyncLifetime
{
    private readonly ITestOutputHelper _out;
    private readonly string _dir = Directory.CreateTempSubdirectory("tunlb-api-").FullName;
    private DirectorState _state = null!;
    private ApiServer _api = null!;
    private HttpClient _http = null!;

    public ApiTests(ITestOutputHelper output) => _out = output;

    private string ConfigPath => System.IO.Path.Combine(_dir, "director.toml");

    public async Task InitializeAsync()
    {
        File.WriteAllText(ConfigPath, Basic);
        _state = NewState(Basic, ConfigPath);
        (_api, _http) = await Start(_state, _state.Settings with { ApiPort = 0 });
    }

    private static async Task<(ApiServer, HttpClient)> Start(DirectorState state, DirectorSettings settings)
    {
        var api = await ApiServer.StartAsync(state, settings);
        return (api, new HttpClient { BaseAddress = new Uri(api.BaseAddress) });
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _api.DisposeAsync();
        try { Directory.Delete(_dir, true); } catch { }
    }

    private static async Task<T> Read<T>(HttpResponseMessage r) =>
        JsonSerializer.Deserialize<T>(await r.Content.ReadAsStringAsync(), ApiJson.Options)!;

    private static StringContent JsonBody(object o) => new(JsonSerializer.Serialize(o, ApiJson.Options), Encoding.UTF8, "application/json");
    private static StringContent Raw(string json) => new(json, Encoding.UTF8, "application/json");

    private async Task<ErrorDto> Expect(HttpStatusCode code, HttpResponseMessage r)
    {
        var body = await r.Content.ReadAsStringAsync();
        Assert.True(code == r.StatusCode, $"{r.StatusCode}: {body}");
        return JsonSerializer.Deserialize<ErrorDto>(body, ApiJson.Options)!;
    }

    [Fact]
    public async Task ListensOnLoopbackWithARealPort()
    {
        Assert.Equal(IPAddress.Loopback, _api.EndPoints[0].Address);
        Assert.NotEqual(0, _api.EndPoints[0].Port);
        var info = await Read<InfoDto>(await _http.GetAsync("/api/v1/info"));
        Assert.Equal(1000, info.ConnectionTableSize);
        Assert.Equal("127.0.0.1:9400", info.Api);
    }

    [Fact]
    public async Task ServiceAndRealLifecycle()
    {
        var r = await _http.PostAsync("/api/v1/services", JsonBody(new ServiceSpec("tcp", Vip, 443, "mh", ["mh-port"], MhTableSize: 251)));
        Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        Assert.Equal($"/api/v1/services/tcp/{Vip}/443", r.Headers.Location?.ToString());
        var svc = await Read<ServiceDto>(r);
        Assert.Equal(["mh-port"], svc.Flags);
        Assert.Equal(251, svc.MhTableSize);
        await Expect(HttpStatusCode.Conflict, await _http.PostAsync("/api/v1/services", JsonBody(new ServiceSpec("tcp", Vip, 443))));

        r = await _http.PostAsync($"/api/v1/services/tcp/{Vip}/443/reals", JsonBody(new RealSpec("192.0.2.41", Weight: 5)));
        Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        Assert.Equal(5, (await Read<RealDto>(r)).Weight);

        r = await _http.PutAsync($"/api/v1/services/tcp/{Vip}/443/reals/192.0.2.41/443", JsonBody(new RealSpec(Weight: 0, UpperThreshold: 10)));
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        var real = await Read<RealDto>(r);
        Assert.Equal((0, 10), (real.Weight, real.UpperThreshold));

        r = await _http.PutAsync($"/api/v1/services/tcp/{Vip}/443", JsonBody(new ServiceSpec(Scheduler: "sh", Flags: ["sh-port"])));
        Assert.Equal("sh", (await Read<ServiceDto>(r)).Scheduler);

        var one = await Read<ServiceDto>(await _http.GetAsync($"/api/v1/services/tcp/{Vip}/443"));
        Assert.Equal("192.0.2.41", Assert.Single(one.Reals).Address);
        Assert.Equal(3, (await Read<ServiceDto[]>(await _http.GetAsync("/api/v1/services"))).Length);

        Assert.Equal(HttpStatusCode.NoContent, (await _http.DeleteAsync($"/api/v1/services/tcp/{Vip}/443/reals/192.0.2.41/443")).StatusCode);
        await Expect(HttpStatusCode.NotFound, await _http.DeleteAsync($"/api/v1/services/tcp/{Vip}/443/reals/192.0.2.41/443"));
        Assert.Equal(HttpStatusCode.NoContent, (await _http.DeleteAsync($"/api/v1/services/tcp/{Vip}/443")).StatusCode);
        await Expect(HttpStatusCode.NotFound, await _http.GetAsync($"/api/v1/services/tcp/{Vip}/443"));
        Assert.Equal(HttpStatusCode.NoContent, (await _http.DeleteAsync("/api/v1/services")).StatusCode);
        Assert.Empty(await Read<ServiceDto[]>(await _http.GetAsync("/api/v1/services")));
    }

    [Fact]
    public async Task Ipv6ServiceInTheUrlIsEncoded()
    {
        var r = await _http.PostAsync("/api/v1/services", JsonBody(new ServiceSpec("udp", "2001:db8::10", 53, "rr")));
        Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        r = await _http.PostAsync($"/api/v1/services/udp/{Uri.EscapeDataString("2001:db8::10")}/53/reals", JsonBody(new RealSpec("2001:db8::11")));
        Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        var svc = await Read<ServiceDto>(await _http.GetAsync("/api/v1/services/udp/2001%3Adb8%3A%3A10/53"));
        Assert.Equal("128", svc.PersistenceNetmask);
        Assert.Contains("real=\"[2001:db8::11]:53\"", await _http.GetStringAsync("/metrics"));
    }

    public static TheoryData<string, string, string, string> BadRequests => new()
    {
        { "POST", "/api/v1/services", """{"protocol":"tcp","vip":"203.0.113.10","port":99999}""", "port" },
        { "POST", "/api/v1/services", """{"protocol":"icmp","vip":"203.0.113.10","port":1}""", "protocol" },
        { "POST", "/api/v1/services", """{"protocol":"tcp","vip":"203.0.113.300","port":1}""", "vip" },
        { "POST", "/api/v1/services", """{"protocol":"tcp","vip":"203.0.113.10","port":1,"scheduler":"fifo"}""", "scheduler" },
        { "POST", "/api/v1/services", """{"protocol":"tcp","vip":"203.0.113.10","port":1,"scheduler":"sh","flags":["mh-port"]}""", "flags" },
        { "POST", "/api/v1/services", """{"protocol":"tcp","vip":"203.0.113.10","port":1,"mh_table_size":1000}""", "mh_table_size" },
        { "POST", "/api/v1/services", """{"protocol":"tcp","vip":"203.0.113.10","port":1,"persistence":30,"persistence_netmask":"255.255.0.255"}""", "persistence_netmask" },
        { "POST", "/api/v1/services", """{"protocol":"tcp","vip":"203.0.113.10","port":"eighty"}""", "port" },
        { "POST", "/api/v1/services", """{"protocol":"tcp","vip":"203.0.113.10","port":1,"schedular":"rr"}""", "schedular" },
        { "POST", "/api/v1/services", """{"protocol":"tcp",""", "" },
        { "POST", "/api/v1/services/tcp/203.0.113.10/80/reals", """{"address":"192.0.2.50","weight":70000}""", "weight" },
        { "POST", "/api/v1/services/tcp/203.0.113.10/80/reals", """{"address":"192.0.2.50","upper_threshold":5,"lower_threshold":6}""", "lower_threshold" },
        { "POST", "/api/v1/services/tcp/203.0.113.10/80/reals", """{"address":"192.0.2.50","wieght":1}""", "wieght" },
        { "PUT", "/api/v1/services/tcp/203.0.113.10/80/reals/192.0.2.11/80", """{"weight":-1}""", "weight" },
        { "PUT", "/api/v1/services/tcp/203.0.113.10/80", """{"scheduler":"xx"}""", "scheduler" },
        { "GET", "/api/v1/services/sctp/203.0.113.10/80", "", "protocol" },
        { "GET", "/api/v1/services/tcp/203.0.113.10/123456", "", "port" },
        { "GET", "/api/v1/services/tcp/not-an-ip/80", "", "vip" },
        { "PUT", "/api/v1/timeouts", """{"tcp":-1,"tcp_fin":0,"udp":0}""", "tcp" },
        { "POST", "/api/v1/stats/zero", """{"protocol":"tcp","vip":"203.0.113.10","port":70000}""", "port" },
        { "GET", "/api/v1/connections?limit=x", "", "limit" },
    };

    [Theory, MemberData(nameof(BadRequests))]
    public async Task BadInputIs400NamingTheField(string method, string path, string body, string field)
    {
        var req = new HttpRequestMessage(new HttpMethod(method), path);
        if (body.Length > 0) req.Content = Raw(body);
        var e = await Expect(HttpStatusCode.BadRequest, await _http.SendAsync(req));
        Assert.Equal(field.Length == 0 ? null : field, e.Field);
        Assert.False(string.IsNullOrWhiteSpace(e.Error));
        Assert.Equal(2, ApiOf(_state).ListServices().Count);
    }

    [Fact]
    public async Task UnknownEndpointIs404WithAnError()
    {
        var e = await Expect(HttpStatusCode.NotFound, await _http.GetAsync("/api/v2/nothing"));
        Assert.Contains("/api/v2/nothing", e.Error);
    }

    [Fact]
    public async Task StatsConnectionsZeroAndTimeouts()
    {
        for (ushort p = 40000; p < 40003; p++) Send(_state, Syn(p));
        Send(_state, Ack(50000));
        var stats = await Read<StatsSummaryDto>(await _http.GetAsync("/api/v1/stats"));
        Assert.Equal(3, stats.Total.Conns);
        Assert.Equal(1, stats.Drops["tcp_no_connection"]);
        Assert.Equal(3, (await Read<ConnectionDto[]>(await _http.GetAsync("/api/v1/connections"))).Length);
        Assert.Single(await Read<ConnectionDto[]>(await _http.GetAsync("/api/v1/connections?limit=1")));

        Assert.Equal(HttpStatusCode.NoContent, (await _http.PostAsync("/api/v1/stats/zero", JsonBody(new ZeroSpec("tcp", Vip, 80)))).StatusCode);
        Assert.Equal(0, (await Read<StatsSummaryDto>(await _http.GetAsync("/api/v1/stats"))).Total.Conns);
        await Expect(HttpStatusCode.NotFound, await _http.PostAsync("/api/v1/stats/zero", JsonBody(new ZeroSpec("tcp", Vip, 81))));
        Assert.Equal(HttpStatusCode.NoContent, (await _http.PostAsync("/api/v1/stats/zero", null)).StatusCode);

        Assert.Equal(new TimeoutsDto(900, 120, 300), await Read<TimeoutsDto>(await _http.GetAsync("/api/v1/timeouts")));
        var tr = await _http.PutAsync("/api/v1/timeouts", JsonBody(new TimeoutsDto(0, 30, 0)));
        Assert.True(tr.StatusCode == HttpStatusCode.OK, $"{tr.StatusCode} {await tr.Content.ReadAsStringAsync()}");
        var t = await Read<TimeoutsDto>(tr);
        Assert.Equal(new TimeoutsDto(900, 30, 300), t);
    }

    [Fact]
    public async Task ReloadEndpointAppliesTheFileOrReturnsItsErrors()
    {
        File.WriteAllText(ConfigPath, Basic.Replace("weight = 2", "weight = 3"));
        var r = await _http.PostAsync("/api/v1/reload", null);
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        var ok = await Read<ReloadResultDto>(r);
        Assert.True(ok.Ok);
        Assert.Contains(ok.Changes, c => c.Contains("weight 2 -> 3"));

        File.WriteAllText(ConfigPath, Basic.Replace("port = 80", "port = 80800"));
        r = await _http.PostAsync("/api/v1/reload", null);
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        var bad = await Read<ReloadResultDto>(r);
        Assert.False(bad.Ok);
        Assert.StartsWith($"{ConfigPath}:7:1: service[0].port:", Assert.Single(bad.Errors));
    }

    [Fact]
    public async Task ConfigTomlRoundTripsThroughTheLoader()
    {
        await _http.PostAsync("/api/v1/services", JsonBody(new ServiceSpec("udp", "203.0.113.30", 0, "sh", ["sh-fallback"], Persistence: 120, PersistenceNetmask: "255.255.255.0")));
        await _http.PostAsync("/api/v1/services/udp/203.0.113.30/0/reals", JsonBody(new RealSpec("192.0.2.61", 0, Weight: 0, UpperThreshold: 50, LowerThreshold: 40)));
        await _http.PutAsync("/api/v1/services/tcp/203.0.113.10/80/reals/192.0.2.12/80", JsonBody(new RealSpec(Weight: 9)));
        await _http.PutAsync("/api/v1/timeouts", JsonBody(new TimeoutsDto(1000, 0, 0)));

        var r = await _http.GetAsync("/api/v1/config.toml");
        Assert.Equal("text/plain", r.Content.Headers.ContentType?.MediaType);
        var text = await r.Content.ReadAsStringAsync();
        _out.WriteLine(text);
        var cfg = ConfigLoader.ParseDirector(text, "rendered.toml");
        Assert.Equal(1000, cfg.Director.TimeoutTcp);
        Assert.Equal(3, cfg.Services.Count);
        var pst = cfg.Services[2];
        Assert.Equal(("sh", 24, 120, (byte)17), (pst.Scheduler, pst.PersistencePrefix, pst.PersistenceSeconds, pst.Protocol));
        Assert.Equal(["sh-fallback"], pst.SchedulerFlags);
        var rl = Assert.Single(pst.Reals);
        Assert.Equal((0, 50, 40), (rl.Weight, rl.UpperThreshold, rl.LowerThreshold));
        Assert.Equal(9, cfg.Services[0].Reals[1].Weight);

        // A director started from the rendered file renders the same file.
        var again = new DirectorState(cfg, new DirectorStateOptions());
        Assert.Equal(text.Split('\n').Skip(2), ConfigRenderer.Render(again).Split('\n').Skip(2));
    }

    [Fact]
    public void TomlStringsAreEscaped()
    {
        var cfg = Parse(Basic.Replace("api = \"127.0.0.1:9400\"", "api = \"127.0.0.1:9400\"\napi_token = \"a\\\"b\\\\c\\u0001\""));
        var s = new DirectorState(cfg, new DirectorStateOptions());
        var back = ConfigLoader.ParseDirector(ConfigRenderer.Render(s), "x.toml");
        Assert.Equal("a\"b\\c\u0001", back.Director.ApiToken);
    }

    [Fact]
    public async Task TokenIsRequiredOnEveryRequestWhenSet()
    {
        var state = NewState();
        var (api, http) = await Start(state, state.Settings with { ApiPort = 0, ApiToken = "s3cret" });
        await using var _ = api;
        using var __ = http;
        foreach (var path in new[] { "/api/v1/info", "/api/v1/services", "/metrics", "/api/v1/config.toml", "/nothing" })
        {
            var r = await http.GetAsync(path);
            Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode);
            Assert.Equal("authorization", (await Read<ErrorDto>(r)).Field);
        }
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.DeleteAsync("/api/v1/services")).StatusCode);
        Assert.Equal(2, ApiOf(state).ListServices().Count);

        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "wrong");
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/api/v1/info")).StatusCode);
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "s3cret");
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/api/v1/info")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/metrics")).StatusCode);
    }

    [Theory]
    [InlineData("0.0.0.0", "")]
    [InlineData("192.0.2.1", "")]
    [InlineData("::", "")]
    public async Task RefusesANonLoopbackApiWithoutToken(string host, string token)
    {
        var s = Parse(Basic).Director with { Api = $"{host}:9400", ApiHost = host, ApiToken = token };
        var why = ApiServer.CheckListen(s, out _);
        Assert.NotNull(why);
        Assert.Contains("api_token", why);
        Assert.Contains("not loopback", why);
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => ApiServer.StartAsync(NewState(), s with { ApiPort = 0 }));
        Assert.Contains("api_token", e.Message);
        Assert.Null(ApiServer.CheckListen(s with { ApiToken = "t" }, out _));
        Assert.Null(ApiServer.CheckListen(s with { ApiHost = "::1" }, out _));
        Assert.Null(ApiServer.CheckListen(s with { ApiHost = "localhost" }, out _));
    }

    // ------------------------------------------------------------ metrics

    [Fact]
    public async Task MetricsUseTheTextFormatWithHelpTypeAndLabels()
    {
        for (ushort p = 40000; p < 40004; p++) { Send(_state, Syn(p)); Send(_state, Ack(p)); }
        Send(_state, Ack(50000));
        var r = await _http.GetAsync("/metrics");
        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", r.Content.Headers.ContentType?.ToString());
        var text = await r.Content.ReadAsStringAsync();
        _out.WriteLine(text);
        MetricsFormat.Check(text);

        Assert.Contains("tunlb_service_connections_total{vip=\"203.0.113.10\",port=\"80\",proto=\"tcp\"} 4\n", text);
        Assert.Contains("tunlb_service_incoming_packets_total{vip=\"203.0.113.10\",port=\"80\",proto=\"tcp\"} 8\n", text);
        Assert.Contains("tunlb_backend_connections_active{vip=\"203.0.113.10\",port=\"80\",proto=\"tcp\",real=\"192.0.2.11:80\"} 2\n", text);
        Assert.Contains("tunlb_backend_connections_inactive{vip=\"203.0.113.10\",port=\"80\",proto=\"tcp\",real=\"192.0.2.11:80\"} 0\n", text);
        Assert.Contains("tunlb_backend_weight{vip=\"203.0.113.10\",port=\"53\",proto=\"udp\",real=\"192.0.2.21:53\"} 2\n", text);
        Assert.Contains("tunlb_dropped_packets_total{reason=\"tcp_no_connection\"} 1\n", text);
        Assert.Contains("tunlb_connection_table_entries 4\n", text);
        Assert.Contains("tunlb_connection_table_size 1000\n", text);
        foreach (var name in new[]
                 {
                     "tunlb_service_incoming_bytes_total", "tunlb_backend_connections_total", "tunlb_backend_incoming_packets_total",
                     "tunlb_backend_incoming_bytes_total", "tunlb_forwarded_packets_total", "tunlb_connection_table_evictions_total",
                 })
            Assert.Contains($"# TYPE {name} ", text);
    }

    [Fact]
    public void LabelValuesAreEscaped()
    {
        Assert.Equal("a\\\\b\\\"c\\nd", Metrics.Escape("a\\b\"c\nd"));
    }

    [Fact]
    public async Task MetricsPassPromtool()
    {
        var promtool = new[] { "/usr/bin/promtool", "/usr/local/bin/promtool" }.FirstOrDefault(File.Exists);
        if (promtool is null)
        {
            _out.WriteLine("SKIPPED: promtool not installed (apt-get install -y prometheus)");
            return;
        }
        Send(_state, Syn(40000));
        await _http.PostAsync("/api/v1/services", JsonBody(new ServiceSpec("tcp", "2001:db8::1", 443)));
        await _http.PostAsync("/api/v1/services/tcp/2001%3Adb8%3A%3A1/443/reals", JsonBody(new RealSpec("2001:db8::2")));
        var text = await _http.GetStringAsync("/metrics");
        var psi = new ProcessStartInfo(promtool, ["check", "metrics"]) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(psi)!;
        await p.StandardInput.WriteAsync(text);
        p.StandardInput.Close();
        var stdout = await p.StandardOutput.ReadToEndAsync();
        var stderr = await p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        Assert.True(p.ExitCode == 0, $"promtool: {stdout}{stderr}\n{text}");
        Assert.True(stdout.Trim().Length == 0 && stderr.Trim().Length == 0, $"promtool lint: {stdout}{stderr}");
    }
}

/// <summary>An independent check of the text exposition format's grammar (what the test can judge without promtool).</summary>
internal static partial class MetricsFormat
{
    [GeneratedRegex("""^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="(\\\\|\\"|\\n|[^"\\\n])*")(,[a-zA-Z_][a-zA-Z0-9_]*="(\\\\|\\"|\\n|[^"\\\n])*")*\})? (-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?|NaN|[+-]Inf)$""")]
    private static partial Regex SampleLine();

    public static void Check(string text)
    {
        Assert.EndsWith("\n", text);
        var typed = new Dictionary<string, string>();
        var helped = new HashSet<string>();
        string? current = null;
        var seenFamilies = new HashSet<string>();
        foreach (var line in text.TrimEnd('\n').Split('\n'))
        {
            if (line.StartsWith("# HELP ", StringComparison.Ordinal))
            {
                var name = line.Split(' ')[2];
                Assert.True(helped.Add(name), $"HELP twice for {name}");
                Assert.True(seenFamilies.Add(name), $"family {name} not contiguous");
                current = name;
                continue;
            }
            if (line.StartsWith("# TYPE ", StringComparison.Ordinal))
            {
                var parts = line.Split(' ');
                Assert.Equal(current, parts[2]);
                Assert.Contains(parts[3], new[] { "counter", "gauge" });
                typed[parts[2]] = parts[3];
                continue;
            }
            var m = SampleLine().Match(line);
            Assert.True(m.Success, $"not a sample line: {line}");
            var metric = m.Groups[1].Value;
            Assert.Equal(current, metric);
            Assert.True(typed.ContainsKey(metric), $"no TYPE for {metric}");
            if (typed[metric] == "counter") Assert.EndsWith("_total", metric);
        }
    }
}
