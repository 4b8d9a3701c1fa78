using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using TunLB.Control.Api;
using TunLB.Director.Api;
using TunLB.Director.Management;
using static TunLB.Director.Tests.Fixtures;

namespace TunLB.Director.Tests.Api;

/// <summary>The health and drain endpoints on the real Kestrel server.</summary>
public sealed class HealthApiTests : LiveApiTests
{

    private const string Toml = """
        [[service]]
        vip = "203.0.113.10"
        port = 80
        scheduler = "rr"
        [service.check]
        type = "tcp"
        [service.sorry]
        address = "192.0.2.200"
        [[service.real]]
        address = "192.0.2.11"
        [[service.real]]
        address = "192.0.2.12"
        """;

    protected override DirectorState CreateState() => NewState(Toml);

    [Fact]
    public async Task HealthReportListsEveryRealWithItsCheck()
    {
        var r = await Http.GetAsync("/api/v1/health");
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        var h = JsonSerializer.Deserialize<HealthReportDto>(await r.Content.ReadAsStringAsync(), ApiJson.Options)!;
        var svc = Assert.Single(h.Services);
        Assert.True(svc.QuorumUp);
        Assert.Equal("192.0.2.200:80", svc.SorryServer);
        Assert.Equal(["192.0.2.11", "192.0.2.12"], svc.Reals.Select(x => x.Address));
        Assert.All(svc.Reals, x => Assert.Equal("up", x.Health.Status));
        Assert.StartsWith("tcp :80 via tunnel, every 2 s", svc.Reals[0].Health.Check);
        var services = await Http.GetStringAsync("/api/v1/services");
        Assert.Contains("\"health\": {", services);
        Assert.Contains("\"configured_weight\": 1", services);
    }

    [Fact]
    public async Task DrainAndUndrain()
    {
        const string real = "/api/v1/services/tcp/203.0.113.10/80/reals/192.0.2.11/80/drain";
        var r = await Http.PostAsync(real, Json("{\"remove_when_idle\": false}"));
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        var dto = JsonSerializer.Deserialize<RealDto>(await r.Content.ReadAsStringAsync(), ApiJson.Options)!;
        Assert.Equal(0, dto.Weight);
        Assert.True(dto.Health!.Draining);
        Assert.Contains("tunlb_backend_draining{vip=\"203.0.113.10\",port=\"80\",proto=\"tcp\",real=\"192.0.2.11:80\"} 1", await Http.GetStringAsync("/metrics"));

        var bad = await Http.PostAsync(real, Json("{\"remove_when_idel\": true}"));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("remove_when_idel", await bad.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.NotFound, (await Http.PostAsync("/api/v1/services/tcp/203.0.113.10/80/reals/192.0.2.99/80/drain", null)).StatusCode);

        var u = await Http.DeleteAsync(real);
        Assert.Equal(HttpStatusCode.OK, u.StatusCode);
        Assert.Equal(1, JsonSerializer.Deserialize<RealDto>(await u.Content.ReadAsStringAsync(), ApiJson.Options)!.Weight);

        // Drain before delete: no connections, so it goes at once.
        var d = await Http.PostAsync(real, Json("{\"remove_when_idle\": true}"));
        Assert.Equal(HttpStatusCode.OK, d.StatusCode);
        Assert.DoesNotContain("192.0.2.11", await Http.GetStringAsync("/api/v1/services"));
    }
}

public sealed class HealthMetricsLintTests
{
    [Fact]
    public async Task HealthMetricsPassPromtool()
    {
        var promtool = new[] { "/usr/bin/promtool", "/usr/local/bin/promtool" }.FirstOrDefault(File.Exists);
        if (promtool is null) return; // ApiTests.MetricsPassPromtool says so
        var s = NewState("""
            [[service]]
            vip = "203.0.113.10"
            port = 80
            [service.check]
            type = "tcp"
            fall = 1
            [service.sorry]
            address = "192.0.2.200"
            [[service.real]]
            address = "192.0.2.11"
            """);
        var id = s.Services[0].Destinations[0].Id;
        s.ReportCheck(id, TunLB.Health.CheckResult.Fail("connection refused", TimeSpan.FromMilliseconds(1.5)), DateTimeOffset.UtcNow);
        Assert.Equal(2, s.Services[0].Destinations.Length); // the sorry server is in
        var text = Metrics.Render(s);
        Assert.Contains("tunlb_backend_check_duration_seconds{vip=\"203.0.113.10\",port=\"80\",proto=\"tcp\",real=\"192.0.2.11:80\"} 0.0015", text);
        var psi = new System.Diagnostics.ProcessStartInfo(promtool, ["check", "metrics"]) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = System.Diagnostics.Process.Start(psi)!;
        await p.StandardInput.WriteAsync(text);
        p.StandardInput.Close();
        var output = await p.StandardOutput.ReadToEndAsync() + await p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        Assert.True(p.ExitCode == 0 && output.Trim().Length == 0, $"promtool: {output}\n{text}");
    }
}
