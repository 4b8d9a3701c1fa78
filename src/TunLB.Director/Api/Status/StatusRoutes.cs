using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using TunLB.Control.Api;
using TunLB.Director.Management;

namespace TunLB.Director.Api.Status;

/// <summary>
/// The status page, the event log, the history and run-time checks (docs/status-page.md). The page and the read-only
/// endpoints it polls (<see cref="IsPublicRead"/>) are readable without the API token, as HAProxy's stats page;
/// every change (drain, maintenance, ready, weight, checks) goes through the API's token rules.
/// </summary>
internal static class StatusRoutes
{
    private static readonly string[] s_public = ["/", "/status", "/status/live", "/api/v1/events", "/api/v1/events/stream", "/api/v1/history"];

    /// <summary>GET/HEAD of the page and its read-only data.</summary>
    public static bool IsPublicRead(HttpRequest req) =>
        (HttpMethods.IsGet(req.Method) || HttpMethods.IsHead(req.Method)) && s_public.Contains(req.Path.Value ?? "", StringComparer.Ordinal);

    public static void Map(WebApplication app, DirectorState state)
    {
        var checks = new CheckApi(state);
        app.MapGet("/", () => Page(state));
        app.MapGet("/status", () => Page(state));
        app.MapGet("/status/live", () => Html(StatusPage.Live(state, state.Time.GetUtcNow())));
        app.MapGet("/api/v1/events", (HttpContext c) =>
        {
            var (events, last) = state.Events.Since(Since(c));
            return Results.Json(new EventsDto(events.Select(Dto).ToArray(), last), ApiJson.Options);
        });
        app.MapGet("/api/v1/events/stream", (HttpContext c) => Stream(c, state));
        app.MapGet("/api/v1/history", () => Results.Json(new HistoryDto(RateEstimator.Interval.TotalSeconds,
            state.History.Samples().Select(s => new HistoryPointDto(StatusText.Iso(s.Time), s.Cps, s.InPps, s.InBps, s.Connections, s.DropsPerSecond)).ToArray()),
            ApiJson.Options));

        const string svc = "/api/v1/services/{proto}/{vip}/{port}";
        const string real = svc + "/reals/{addr}/{rport}";
        app.MapPut(svc + "/check", async (HttpContext c, string proto, string vip, string port) =>
        {
            return Results.Json(checks.SetServiceCheck(proto, vip, port, await Body(c)), ApiJson.Options);
        });
        app.MapDelete(svc + "/check", (string proto, string vip, string port) => Results.Json(checks.DeleteServiceCheck(proto, vip, port), ApiJson.Options));
        app.MapPut(real + "/check", async (HttpContext c, string proto, string vip, string port, string addr, string rport) =>
        {
            return Results.Json(checks.SetRealCheck(proto, vip, port, addr, rport, await Body(c)), ApiJson.Options);
        });
        app.MapDelete(real + "/check", (string proto, string vip, string port, string addr, string rport) =>
            Results.Json(checks.DeleteRealCheck(proto, vip, port, addr, rport), ApiJson.Options));
        app.MapPost(real + "/maintenance", (string proto, string vip, string port, string addr, string rport) =>
            Results.Json(checks.Maintenance(proto, vip, port, addr, rport, true), ApiJson.Options));
        app.MapDelete(real + "/maintenance", (string proto, string vip, string port, string addr, string rport) =>
            Results.Json(checks.Maintenance(proto, vip, port, addr, rport, false), ApiJson.Options));
        app.MapPost(real + "/ready", (string proto, string vip, string port, string addr, string rport) =>
            Results.Json(checks.Maintenance(proto, vip, port, addr, rport, false), ApiJson.Options));
    }

    private static IResult Page(DirectorState state) => Html(StatusPage.Page(state, state.Time.GetUtcNow()));

    private static IResult Html(string html) => Results.Text(html, StatusPage.ContentType, Encoding.UTF8);

    private static EventDto Dto(DirectorEvent e) => new(e.Id, StatusText.Iso(e.Time), e.Kind, e.Service, e.Real, e.Message);

    private static long Since(HttpContext c)
    {
        string? v = c.Request.Query["since"];
        if (string.IsNullOrEmpty(v)) v = c.Request.Headers["Last-Event-ID"];
        if (string.IsNullOrEmpty(v)) return 0;
        return long.TryParse(v, out var id) && id >= 0 ? id : throw ApiException.BadRequest("since", $"\"{v}\" is not a non-negative event id");
    }

    /// <summary>Server-sent events: every event after "since" (or Last-Event-ID), then each new one; a comment every 15 s.</summary>
    private static async Task Stream(HttpContext c, DirectorState state)
    {
        long since = Since(c);
        var stopping = c.RequestServices.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(c.RequestAborted, stopping);
        c.Response.ContentType = "text/event-stream";
        c.Response.Headers.CacheControl = "no-cache";
        c.Response.Headers["X-Accel-Buffering"] = "no"; // nginx: pass events through at once
        await c.Response.WriteAsync(": tunlb events\n\n", cts.Token);
        await c.Response.Body.FlushAsync(cts.Token);
        try
        {
            while (!cts.IsCancellationRequested)
            {
                var (events, last) = state.Events.Since(since, 100);
                foreach (var e in events)
                    await c.Response.WriteAsync($"id: {e.Id}\ndata: {JsonSerializer.Serialize(Dto(e), Compact)}\n\n", cts.Token);
                since = last;
                await c.Response.Body.FlushAsync(cts.Token);
                if (events.Count > 0) continue;
                try { await state.Events.WaitAsync(since, cts.Token).WaitAsync(TimeSpan.FromSeconds(15), cts.Token); }
                catch (TimeoutException) { await c.Response.WriteAsync(": keep-alive\n\n", cts.Token); }
            }
        }
        catch (OperationCanceledException) { }
    }

    private static readonly JsonSerializerOptions Compact = new(ApiJson.Options) { WriteIndented = false };

    /// <summary>A JSON body as a document; null when empty. Not JSON: 400.</summary>
    private static async Task<JsonElement?> Body(HttpContext c)
    {
        using var ms = new MemoryStream();
        await c.Request.Body.CopyToAsync(ms);
        if (ms.Length == 0 || ms.ToArray().All(b => b is (byte)' ' or (byte)'\n' or (byte)'\r' or (byte)'\t')) return null;
        if (c.Request.ContentType is { } ct && !ct.StartsWith("application/json", StringComparison.OrdinalIgnoreCase))
            throw ApiException.BadRequest("content-type", $"content type {ct} is not supported; send application/json");
        try { return JsonDocument.Parse(ms.ToArray()).RootElement.Clone(); }
        catch (JsonException e) { throw ApiException.BadRequest("check", $"invalid JSON: {e.Message}"); }
    }
}
