using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using TunLB.Control.Api;
using TunLB.Control.Configuration;
using TunLB.Director.Api;
using TunLB.Director.Management;
using static TunLB.Director.Tests.Fixtures;

namespace TunLB.Director.Tests.Api;

/// <summary>The closed API (docs/robustness.md): body limit, authentication failure limit, TLS.</summary>
public sealed class ApiHardeningTests
{
    private static async Task<(ApiServer, HttpClient)> Start(DirectorSettings settings, List<string>? log = null,
        HttpMessageHandler? handler = null, DirectorState? state = null)
    {
        state ??= NewState();
        var api = await ApiServer.StartAsync(state, settings with { ApiPort = 0 }, log: l => { lock (log ?? []) log?.Add(l); });
        var http = handler is null ? new HttpClient() : new HttpClient(handler);
        http.BaseAddress = new Uri(api.BaseAddress);
        return (api, http);
    }

    [Fact]
    public async Task A_body_above_the_limit_gets_413_and_the_server_goes_on()
    {
        var state = NewState();
        var (api, http) = await Start(state.Settings, state: state);
        await using var _ = api;
        using var __ = http;
        var big = new string(' ', ApiServer.MaxBodyBytes) + "{}";
        var r = await http.PostAsync("/api/v1/services", new StringContent(big, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, r.StatusCode);
        var e = JsonSerializer.Deserialize<ErrorDto>(await r.Content.ReadAsStringAsync(), ApiJson.Options)!;
        Assert.Equal("body", e.Field);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/api/v1/info")).StatusCode);
        Assert.Equal(2, ApiOf(state).ListServices().Count);
    }

    [Fact]
    public async Task Repeated_authentication_failures_get_429_and_are_logged_then_the_window_ends()
    {
        var time = new FakeTime();
        var state = new DirectorState(Parse(Basic), new DirectorStateOptions
        {
            OuterSource = _ => DirectorAddress, Clock = () => 1000, HashSeed = 42, Time = time,
        });
        var log = new List<string>();
        var (api, http) = await Start(state.Settings with { ApiToken = "s3cret" }, log, state: state);
        await using var _ = api;
        using var __ = http;
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "guess");
        for (int i = 0; i < AuthFailureLimiter.MaxFailures; i++)
            Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/api/v1/info")).StatusCode);
        var blocked = await http.GetAsync("/api/v1/info");
        Assert.Equal(HttpStatusCode.TooManyRequests, blocked.StatusCode);
        Assert.NotNull(blocked.Headers.RetryAfter);
        // Blocked even with the right token until the window ends: guessing costs a minute per ten tries.
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "s3cret");
        Assert.Equal(HttpStatusCode.TooManyRequests, (await http.GetAsync("/api/v1/info")).StatusCode);
        lock (log)
        {
            Assert.Contains(log, l => l.Contains("authentication failed from 127.0.0.1"));
            Assert.Contains(log, l => l.Contains($"{AuthFailureLimiter.MaxFailures} authentication failures from 127.0.0.1"));
        }
        Assert.Equal(AuthFailureLimiter.MaxFailures, api.AuthFailures!.TotalFailures);
        Assert.Equal(2, api.AuthFailures.TotalBlocked);
        time.Advance(AuthFailureLimiter.Window.TotalSeconds);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/api/v1/info")).StatusCode);
    }

    [Fact]
    public void The_limiter_tracks_a_bounded_number_of_addresses()
    {
        var time = new FakeTime();
        var l = new AuthFailureLimiter(time, _ => { });
        for (int i = 0; i < AuthFailureLimiter.MaxTracked + 100; i++)
            l.Failed(new IPAddress(new byte[] { 198, 18, (byte)(i >> 8), (byte)i }), "/");
        // The addresses beyond the bound share one slot: 100 failures there block them together.
        Assert.True(l.IsBlocked(IPAddress.Parse("198.51.100.1"), out _));
        Assert.False(l.IsBlocked(IPAddress.Parse("198.18.0.1"), out _));
        Assert.Equal(AuthFailureLimiter.MaxTracked + 100, l.TotalFailures);
        time.Advance(61);
        l.Failed(IPAddress.Parse("203.0.113.1"), "/");                      // a sweep makes room
        Assert.False(l.IsBlocked(IPAddress.Parse("203.0.113.1"), out _));
    }

    [Fact]
    public async Task Serves_TLS_with_a_PEM_certificate_and_key()
    {
        var dir = Directory.CreateTempSubdirectory("tunlb-tls-").FullName;
        try
        {
            string cert = Path.Combine(dir, "api.pem"), key = Path.Combine(dir, "api.key");
            Openssl($"req -x509 -newkey rsa:2048 -nodes -keyout {key} -out {cert} -days 1 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1");
            var state = NewState();
            var ca = X509CertificateLoader.LoadCertificateFromFile(cert);
            var handler = new HttpClientHandler
            {
                ServerCertificateCustomValidationCallback = (_, c, _, _) => c is not null && c.Thumbprint == ca.Thumbprint,
            };
            var (api, http) = await Start(state.Settings with { ApiTlsCert = cert, ApiTlsKey = key }, handler: handler, state: state);
            await using var _ = api;
            using var __ = http;
            Assert.StartsWith("https://127.0.0.1:", api.BaseAddress);
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/api/v1/info")).StatusCode);
            // Plain HTTP to the same port is not served.
            using var plain = new HttpClient { BaseAddress = new Uri(api.BaseAddress.Replace("https", "http")) };
            await Assert.ThrowsAnyAsync<Exception>(async () => (await plain.GetAsync("/api/v1/info")).EnsureSuccessStatusCode());

            var bad = await Assert.ThrowsAsync<InvalidOperationException>(() =>
                ApiServer.StartAsync(state, state.Settings with { ApiPort = 0, ApiTlsCert = key + ".missing" }));
            Assert.Contains("api_tls_cert", bad.Message);
        }
        finally { Directory.Delete(dir, true); }
    }

    private static void Openssl(string args)
    {
        using var p = Process.Start(new ProcessStartInfo("openssl", args) { RedirectStandardError = true, RedirectStandardOutput = true })!;
        p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.Equal(0, p.ExitCode);
    }
}
