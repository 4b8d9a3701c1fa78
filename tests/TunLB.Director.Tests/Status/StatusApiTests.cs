using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using TunLB.Control.Api;
using TunLB.Control.Configuration;
using TunLB.Director.Api;
using TunLB.Director.Management;
using TunLB.Director.Tests.Api;
using TunLB.Health;
using static TunLB.Director.Tests.Fixtures;

namespace TunLB.Director.Tests.Status;

/// <summary>The status page, the event log, the history and run-time checks on the real Kestrel server.</summary>
public sealed class StatusApiTests : LiveApiTests
{
    private const string Token = "s3cret";
    private const string Real = "/api/v1/services/tcp/203.0.113.10/80/reals/192.0.2.11/80";
    private FakeTime _time = null!;
    private HttpClient _anon = null!;   // without

    private const string Toml = """
        [[service]]
        vip = "203.0.113.10"
        port = 80
        scheduler = "rr"
        [service.check]
        type = "tcp"
        interval = 1
        timeout = 0.5
        fall = 2
        [[service.real]]
        address = "192.0.2.11"
        [[service.real]]
        address = "192.0.2.12"
        [[service.real]]
        address = "192.0.2.13"
        weight = 3
        """;

    protected override DirectorState CreateState()
    {
        _time = new FakeTime();
        return NewState(Toml, time: _time);
    }

    protected override DirectorSettings ApiSettings(DirectorSettings s) => base.ApiSettings(s) with { ApiToken = Token };

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        Http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);   // Http: with the token
        _anon = new HttpClient { BaseAddress = new Uri(Server.BaseAddress) };
    }

    public override async Task DisposeAsync()
    {
        _anon.Dispose();
        await base.DisposeAsync();
    }

    private int Id(string addr) => State.Services[0].Destinations.First(d => d.Address.ToString() == addr).Id;

    private void Fail(string addr, int times)
    {
        for (int i = 0; i < times; i++) { _time.Advance(1); State.ReportCheck(Id(addr), CheckResult.Fail("connection refused", TimeSpan.FromMilliseconds(2)), _time.Now); }
    }

    private async Task<JsonElement> Events(long since = 0) =>
        JsonDocument.Parse(await _anon.GetStringAsync($"/api/v1/events?since={since}")).RootElement;

    [Fact]
    public async Task PageIsCompleteHtmlWithoutTokenAndShowsEveryReal()
    {
        Fail("192.0.2.12", 2);
        var r = await _anon.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.StartsWith("text/html", r.Content.Headers.ContentType!.ToString());
        var html = await r.Content.ReadAsStringAsync();
        Assert.Contains("<table class=\"reals\">", html);
        Assert.Contains("data-real=\"192.0.2.11:80\" data-state=\"UP\"", html);
        Assert.Contains("data-real=\"192.0.2.12:80\" data-state=\"DOWN\"", html);
        Assert.Contains("data-real=\"192.0.2.13:80\" data-state=\"UP\"", html);
        Assert.Contains("203.0.113.10:80/tcp", html);
        Assert.Contains("connection refused", html);
        Assert.Contains("</html>", html);
        // No external assets, relative URLs only (works under a path prefix).
        Assert.DoesNotContain("src=\"http", html);
        Assert.DoesNotContain("href=\"http", html);
        Assert.DoesNotContain("href=\"/", html);
        Assert.DoesNotContain("fetch(\"/", html);
        Assert.Contains("data-real=\"192.0.2.11:80\"", await _anon.GetStringAsync("/status"));
        Assert.Contains("data-state=\"DOWN\"", await _anon.GetStringAsync("/status/live"));
        // Everything else keeps the token.
        Assert.Equal(HttpStatusCode.Unauthorized, (await _anon.GetAsync("/api/v1/services")).StatusCode);
    }

    [Fact]
    public async Task HealthTransitionDrainWeightAndMaintenanceAreEvents()
    {
        long start = (await Events()).GetProperty("next").GetInt64();
        Fail("192.0.2.11", 2);
        Assert.Equal(HttpStatusCode.OK, (await Http.PostAsync(Real + "/drain", null)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Http.PutAsync("/api/v1/services/tcp/203.0.113.10/80/reals/192.0.2.13/80", Json("{\"weight\": 5}"))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Http.PostAsync("/api/v1/services/tcp/203.0.113.10/80/reals/192.0.2.12/80/maintenance", null)).StatusCode);

        var root = await Events(start);
        var ev = root.GetProperty("events").EnumerateArray().ToList();
        Assert.Equal(["health", "drain", "weight", "maintenance"], ev.Select(e => e.GetProperty("kind").GetString()));
        Assert.Equal(ev[^1].GetProperty("id").GetInt64(), root.GetProperty("next").GetInt64());
        Assert.All(ev, e => Assert.Equal("203.0.113.10:80/tcp", e.GetProperty("service").GetString()));
        Assert.Equal(["192.0.2.11:80", "192.0.2.11:80", "192.0.2.13:80", "192.0.2.12:80"], ev.Select(e => e.GetProperty("real").GetString()));
        Assert.StartsWith("DOWN", ev[0].GetProperty("message").GetString());
        Assert.Contains("weight 3 -> 5", ev[2].GetProperty("message").GetString());
        Assert.Equal(_time.Now, DateTimeOffset.Parse(ev[0].GetProperty("time").GetString()!, System.Globalization.CultureInfo.InvariantCulture));
        Assert.Empty((await Events(root.GetProperty("next").GetInt64())).GetProperty("events").EnumerateArray());

        var html = await _anon.GetStringAsync("/");
        Assert.Contains("data-real=\"192.0.2.11:80\" data-state=\"DRAIN\"", html);
        Assert.Contains("data-real=\"192.0.2.12:80\" data-state=\"MAINT\"", html);
        Assert.Equal(0, State.View.Services[0].Reals[1].Dest.Weight);

        var ready = await Http.PostAsync("/api/v1/services/tcp/203.0.113.10/80/reals/192.0.2.12/80/ready", null);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal(1, State.View.Services[0].Reals[1].Dest.Weight);
        Assert.Contains("data-real=\"192.0.2.12:80\" data-state=\"UP\"", await _anon.GetStringAsync("/"));
    }

    [Fact]
    public async Task QuorumLossAndAFailedReloadAreEvents()
    {
        foreach (var a in new[] { "192.0.2.11", "192.0.2.12", "192.0.2.13" }) Fail(a, 2);
        var r = State.Reload(); // director.toml does not exist here
        Assert.False(r.Ok);
        var ev = (await Events()).GetProperty("events").EnumerateArray().ToList();
        var quorum = Assert.Single(ev, e => e.GetProperty("kind").GetString() == "quorum");
        Assert.StartsWith("lost quorum: live weight 0, quorum 1", quorum.GetProperty("message").GetString());
        Assert.Equal(JsonValueKind.Null, quorum.GetProperty("real").ValueKind);
        var reload = ev[^1];
        Assert.Equal("reload", reload.GetProperty("kind").GetString());
        Assert.Contains("failed, nothing changed", reload.GetProperty("message").GetString());
        Assert.Contains("<span class=\"st down\">LOST</span>", await _anon.GetStringAsync("/"));
    }

    [Fact]
    public async Task EventWithoutServiceHasNullFields()
    {
        State.RecordEvent(EventKinds.Sync, null, null, "peer 192.0.2.2 connected");
        var ev = (await Events()).GetProperty("events").EnumerateArray().Last();
        Assert.Equal("sync", ev.GetProperty("kind").GetString());
        Assert.Equal(JsonValueKind.Null, ev.GetProperty("service").ValueKind);
        Assert.Equal(JsonValueKind.Null, ev.GetProperty("real").ValueKind);
        Assert.Equal(HttpStatusCode.BadRequest, (await _anon.GetAsync("/api/v1/events?since=x")).StatusCode);
    }

    [Fact]
    public async Task ActionsWithoutTokenAreRefused()
    {
        Assert.Equal(HttpStatusCode.Unauthorized, (await _anon.PostAsync(Real + "/drain", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await _anon.PostAsync(Real + "/maintenance", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await _anon.PutAsync(Real + "/check", Json("{\"type\":\"http\"}"))).StatusCode);
        Assert.False(State.View.Services[0].Reals[0].Health!.Draining);
        Assert.False(State.View.Services[0].Reals[0].Health!.Maintenance);
    }

    [Fact]
    public async Task StreamSendsPastAndNewEvents()
    {
        State.RecordEvent(EventKinds.Reload, null, null, "first");
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        using var resp = await _anon.GetAsync("/api/v1/events/stream?since=0", HttpCompletionOption.ResponseHeadersRead, cts.Token);
        Assert.Equal("text/event-stream", resp.Content.Headers.ContentType!.MediaType);
        using var reader = new StreamReader(await resp.Content.ReadAsStreamAsync(cts.Token));
        var seen = new List<string>();
        _ = Task.Run(async () => { await Task.Delay(300); State.RecordEvent(EventKinds.Sync, null, null, "second"); });
        while (seen.Count < 2)
        {
            var line = await reader.ReadLineAsync(cts.Token) ?? throw new EndOfStreamException();
            if (line.StartsWith("data: ", StringComparison.Ordinal)) seen.Add(JsonDocument.Parse(line[6..]).RootElement.GetProperty("message").GetString()!);
        }
        Assert.Equal(["first", "second"], seen);
    }

    [Fact]
    public async Task HistoryServesTheEstimatorSamples()
    {
        State.SampleRates(2);
        _time.Advance(2);
        State.SampleRates(2);
        var h = JsonDocument.Parse(await _anon.GetStringAsync("/api/v1/history")).RootElement;
        Assert.Equal(2, h.GetProperty("interval_seconds").GetDouble());
        var s = Assert.Single(h.GetProperty("samples").EnumerateArray());
        Assert.Equal(0, s.GetProperty("in_pps").GetDouble());
        Assert.Contains("<svg", await _anon.GetStringAsync("/"));
    }
}
