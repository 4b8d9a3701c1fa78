using System.Net;
using System.Text;
using System.Text.Json;
using TunLB.Control.Api;
using TunLB.Control.Configuration;
using TunLB.Director.Api;
using TunLB.Director.Management;
using TunLB.Director.Tests.Api;
using static TunLB.Director.Tests.Fixtures;

namespace TunLB.Director.Tests.Status;

/// <summary>Health checks created, changed and removed through /api/v1 and rendered by config.toml.</summary>
public sealed class CheckApiTests : LiveApiTests
{
    private const string Svc = "/api/v1/services/tcp/203.0.113.10/80";
    private const string Real = Svc + "/reals/192.0.2.11/80";

    private const string Toml = """
        [[service]]
        vip = "203.0.113.10"
        port = 80
        scheduler = "rr"
        [[service.real]]
        address = "192.0.2.11"
        [[service.real]]
        address = "192.0.2.12"
        """;

    protected override DirectorState CreateState() => NewState(Toml);

    private string CheckOf(string addr) => State.View.Services[0].Reals.First(r => r.Dest.Address.ToString() == addr).Health!.Spec.Describe(80);

    [Fact]
    public async Task RealCheckIsCreatedChangedRemovedAndRendered()
    {
        Assert.Equal("none", CheckOf("192.0.2.11"));
        var r = await Http.PutAsync(Real + "/check", Json("""{"type": "http", "path": "/health", "interval": 2, "timeout": 0.5, "fall": 3}"""));
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        var dto = JsonSerializer.Deserialize<RealDto>(await r.Content.ReadAsStringAsync(), ApiJson.Options)!;
        Assert.Equal("http GET /health :80 via tunnel, every 2 s, timeout 0.5 s, rise 2 fall 3", dto.Health!.Check);
        Assert.Equal("none", CheckOf("192.0.2.12"));

        var toml = await Http.GetStringAsync("/api/v1/config.toml");
        Assert.Contains("[service.real.check]\ntype = \"http\"\npath = \"/health\"", toml);
        var back = ConfigLoader.ParseDirector(toml, "rendered.toml");
        Assert.Equal(State.View.Services[0].HealthSpec.PerReal.Values.Single(), back.Services[0].Health.PerReal.Values.Single());

        // Change: keys not given come from the service's check (none here): the defaults again.
        Assert.Equal(HttpStatusCode.OK, (await Http.PutAsync(Real + "/check", Json("""{"type": "tcp", "port": 8080}"""))).StatusCode);
        Assert.Equal("tcp :8080 via tunnel, every 2 s, timeout 1 s, rise 2 fall 2", CheckOf("192.0.2.11"));

        Assert.Equal(HttpStatusCode.OK, (await Http.DeleteAsync(Real + "/check")).StatusCode);
        Assert.Equal("none", CheckOf("192.0.2.11"));
        Assert.DoesNotContain("check]", await Http.GetStringAsync("/api/v1/config.toml"));
        var events = await Http.GetStringAsync("/api/v1/events");
        Assert.Contains("own check removed", events);
    }

    [Fact]
    public async Task ServiceCheckAppliesToRealsWithoutTheirOwn()
    {
        Assert.Equal(HttpStatusCode.OK, (await Http.PutAsync(Real + "/check", Json("""{"type": "tcp"}"""))).StatusCode);
        var r = await Http.PutAsync(Svc + "/check", Json("""{"type": "http", "path": "/ok", "expect_status": "200"}"""));
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.StartsWith("tcp :80", CheckOf("192.0.2.11"));
        Assert.StartsWith("http GET /ok :80", CheckOf("192.0.2.12"));
        var toml = await Http.GetStringAsync("/api/v1/config.toml");
        Assert.Contains("[service.check]\ntype = \"http\"\npath = \"/ok\"\nexpect_status = \"200\"", toml);
        Assert.Equal(HttpStatusCode.OK, (await Http.DeleteAsync(Svc + "/check")).StatusCode);
        Assert.Equal("none", CheckOf("192.0.2.12"));
        Assert.StartsWith("tcp :80", CheckOf("192.0.2.11"));
    }

    [Fact]
    public async Task BadChecksAreRefusedWithEveryErrorAndChangeNothing()
    {
        var r = await Http.PutAsync(Real + "/check", Json("""{"type": "http", "path": "health", "interval": 0, "fall": "3", "intervall": 2}"""));
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        var e = JsonSerializer.Deserialize<ErrorDto>(await r.Content.ReadAsStringAsync(), ApiJson.Options)!;
        var all = string.Join("\n", e.Details!);
        Assert.Contains("intervall: unknown key; did you mean \"interval\"?", all);
        Assert.Contains("path: path \"health\" must start with /", all);
        Assert.Contains("interval: 0 is out of range; must be 0.1..3600", all);
        Assert.Contains("fall: expected an integer", all);
        Assert.Equal("none", CheckOf("192.0.2.11"));

        var noType = await Http.PutAsync(Svc + "/check", Json("""{"path": "/x"}"""));
        Assert.Equal(HttpStatusCode.BadRequest, noType.StatusCode);
        Assert.Contains("\"field\": \"type\"", await noType.Content.ReadAsStringAsync());
        var misc = await Http.PutAsync(Svc + "/check", Json("""{"type": "misc"}"""));
        Assert.Contains("a misc check needs command", await misc.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.BadRequest, (await Http.PutAsync(Real + "/check", Json("[1]"))).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await Http.PutAsync(Real + "/check", Json("{\"type\": [1]}"))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Http.PutAsync(Svc + "/reals/192.0.2.99/80/check", Json("{\"type\":\"tcp\"}"))).StatusCode);
        Assert.False(State.View.Services[0].HealthSpec.Check.Enabled);
    }

    [Fact]
    public void WordsAreReadAsTheFileReadsTheTable()
    {
        var r = CheckRules.Check(CheckRules.FromWords("http path=/health interval=2 fall=3 expect_body='all good' dampening=true"), new(), "tcp");
        Assert.True(r.Ok, string.Join("; ", r.Errors));
        Assert.Equal(("http", "/health", 2.0, 3, "all good"), (r.Value!.Type, r.Value.Path, r.Value.IntervalSeconds, r.Value.Fall, r.Value.ExpectBody));
        Assert.NotNull(r.Value.Dampening);
        var bad = CheckRules.Check(CheckRules.FromWords("htp interval=fast"), new(), "tcp");
        Assert.False(bad.Ok);
        Assert.Contains(bad.Errors, e => e.Field == "type");
        Assert.Contains(bad.Errors, e => e.Field == "interval" && e.Message.Contains("expected a number"));
        Assert.Throws<FormatException>(() => CheckRules.FromWords("http path"));
        Assert.Throws<FormatException>(() => CheckRules.FromWords("http path='/a"));
    }
}
