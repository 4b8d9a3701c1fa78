using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using TunLB.Control.Api;
using TunLB.Control.Configuration;
using TunLB.Director.Management;

namespace TunLB.Director.Api;

/// <summary>
/// The management API (HTTP/JSON, /api/v1 as listed in <see cref="ApiJson"/>'s file, plus GET /metrics) on
/// Kestrel, over a <see cref="DirectorState"/> alone, so it runs without TUN devices or raw sockets.
/// No per-request logging; with an API token every request needs <c>Authorization: Bearer &lt;token&gt;</c>.
/// </summary>
public sealed class ApiServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private static readonly JsonSerializerOptions s_read = new(ApiJson.Options)
    {
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    private ApiServer(WebApplication app, IReadOnlyList<IPEndPoint> endpoints, bool tls)
    {
        _app = app;
        EndPoints = endpoints;
        _scheme = tls ? "https" : "http";
    }

    private readonly string _scheme;

    /// <summary>Largest request body accepted; larger ones get 413 (every API body is a small JSON object).</summary>
    public const int MaxBodyBytes = 1 << 20;

    /// <summary>Where the server listens (with the real port when 0 was asked for).</summary>
    public IReadOnlyList<IPEndPoint> EndPoints { get; private set; }

    /// <summary>"http://127.0.0.1:9400" (https with api_tls_cert) for the first endpoint.</summary>
    public string BaseAddress => EndPoints[0].Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6
        ? $"{_scheme}://[{EndPoints[0].Address}]:{EndPoints[0].Port}" : $"{_scheme}://{EndPoints[0].Address}:{EndPoints[0].Port}";

    /// <summary>Failed authentications and the 429s they caused.</summary>
    public AuthFailureLimiter? AuthFailures { get; private set; }

    // ---------------------------------------------------------------- security

    /// <summary>
    /// The addresses to listen on for <paramref name="s"/>.<see cref="DirectorSettings.ApiHost"/>, or an error
    /// (returned, not thrown) when the host does not resolve, or when any address is not loopback and no
    /// api_token is set. Called before the director touches the host.
    /// </summary>
    public static string? CheckListen(DirectorSettings s, out IPAddress[] addresses)
    {
        addresses = [];
        try
        {
            addresses = IPAddress.TryParse(s.ApiHost, out var ip) ? [ip]
                : s.ApiHost.Equals("localhost", StringComparison.OrdinalIgnoreCase) ? [IPAddress.Loopback]
                : Dns.GetHostAddresses(s.ApiHost);
        }
        catch (Exception e) { return $"api = \"{s.Api}\": cannot resolve {s.ApiHost}: {e.Message}"; }
        if (addresses.Length == 0) return $"api = \"{s.Api}\": {s.ApiHost} has no addresses";
        var open = addresses.Where(a => !IPAddress.IsLoopback(a)).ToArray();
        if (open.Length > 0 && string.IsNullOrEmpty(s.ApiToken))
            return $"api = \"{s.Api}\" listens on {string.Join(", ", open.Select(a => a.ToString()))}, which is not loopback, and api_token is not set: " +
                   "anyone who can reach it could change the load balancer. Set api_token in [director] (clients send it as \"Authorization: Bearer <token>\"), " +
                   "or bind the API to 127.0.0.1 / [::1].";
        return null;
    }

    /// <summary>Starts Kestrel on <paramref name="settings"/>' api address (port 0 = any free port).</summary>
    /// <exception cref="InvalidOperationException">The address is refused by <see cref="CheckListen"/>, or the TLS
    /// certificate cannot be read.</exception>
    public static async Task<ApiServer> StartAsync(DirectorState state, DirectorSettings settings, CancellationToken ct = default,
        Action<string>? log = null)
    {
        var why = CheckListen(settings, out var addresses);
        if (why is not null) throw new InvalidOperationException(why);
        var cert = ApiTls.Load(settings);
        var limiter = new AuthFailureLimiter(state.Time, log ?? (_ => { }));

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], EnvironmentName = "Production" });
        builder.Logging.ClearProviders(); // no per-request (or startup) lines on stdout
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Limits.MaxRequestBodySize = MaxBodyBytes;
            foreach (var a in addresses)
            {
                if (cert is null) k.Listen(a, settings.ApiPort);
                else k.Listen(a, settings.ApiPort, l => l.UseHttps(cert));
            }
        });
        var app = builder.Build();
        Map(app, new DirectorApi(state), settings.ApiToken, limiter);
        await app.StartAsync(ct).ConfigureAwait(false);

        var server = new ApiServer(app, [], cert is not null) { AuthFailures = limiter };
        var bound = app.Urls.Select(u => new Uri(u)).Select(u => new IPEndPoint(IPAddress.Parse(u.Host.Trim('[', ']')), u.Port)).ToArray();
        server.EndPoints = bound.Length > 0 ? bound : addresses.Select(a => new IPEndPoint(a, settings.ApiPort)).ToArray();
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        await _app.StopAsync(cts.Token).ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }

    // ---------------------------------------------------------------- routes

    private static void Map(WebApplication app, DirectorApi state, string token, AuthFailureLimiter limiter)
    {
        var tokenHash = token.Length > 0 ? SHA256.HashData(Encoding.UTF8.GetBytes(token)) : null;
        app.Use(async (ctx, next) =>
        {
            if (tokenHash is not null && !Status.StatusRoutes.IsPublicRead(ctx.Request))
            {
                var client = ctx.Connection.RemoteIpAddress;
                if (limiter.IsBlocked(client, out var retry))
                {
                    ctx.Response.Headers.RetryAfter = ((int)Math.Ceiling(retry.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
                    await Write(ctx, 429, new ErrorDto("too many failed authentications from this address; retry later", "authorization"));
                    return;
                }
                if (!Authorized(ctx.Request, tokenHash))
                {
                    limiter.Failed(client, ctx.Request.Path);
                    ctx.Response.Headers.WWWAuthenticate = "Bearer realm=\"tunlb\"";
                    await Write(ctx, 401, new ErrorDto("missing or wrong bearer token (send \"Authorization: Bearer <api_token>\")", "authorization"));
                    return;
                }
            }
            try { await next(ctx); }
            catch (ApiException e) { await Write(ctx, e.Status, new ErrorDto(e.Message, e.Field, e.Details)); }
            catch (BadBodyException e) { await Write(ctx, 400, new ErrorDto(e.Message, e.Field)); }
            catch (Microsoft.AspNetCore.Http.BadHttpRequestException e) when (e.StatusCode == 413)
            {
                await Write(ctx, 413, new ErrorDto($"request body larger than {MaxBodyBytes} bytes", "body"));
            }
        });

        const string svc = "/api/v1/services/{proto}/{vip}/{port}";
        const string real = svc + "/reals/{addr}/{rport}";

        app.MapGet("/api/v1/info", () => Json(state.Info()));
        app.MapGet("/api/v1/services", () => Json(state.ListServices()));
        app.MapPost("/api/v1/services", async (HttpContext c) =>
        {
            var dto = state.AddService(await Body<ServiceSpec>(c) ?? throw new BadBodyException("required: a JSON ServiceSpec body", null));
            return Json(dto, 201, $"/api/v1/services/{dto.Protocol}/{Uri.EscapeDataString(dto.Vip)}/{dto.Port}");
        });
        app.MapDelete("/api/v1/services", () => { state.Clear(); return Results.NoContent(); });
        var batch = new BatchApi(state); // all-or-nothing changes (tunlb adm -R), BatchApi.cs
        app.MapPost("/api/v1/batch", async (HttpContext c) =>
            Json(batch.Apply(await Body<BatchSpec>(c) ?? throw new BadBodyException("required: a JSON BatchSpec body", null))));
        app.MapGet(svc, (string proto, string vip, string port) => Json(state.GetService(proto, vip, port)));
        app.MapPut(svc, async (HttpContext c, string proto, string vip, string port) =>
            Json(state.EditService(proto, vip, port, await Body<ServiceSpec>(c) ?? new ServiceSpec())));
        app.MapDelete(svc, (string proto, string vip, string port) => { state.DeleteService(proto, vip, port); return Results.NoContent(); });
        app.MapPost(svc + "/reals", async (HttpContext c, string proto, string vip, string port) =>
        {
            var dto = state.AddReal(proto, vip, port, await Body<RealSpec>(c) ?? throw new BadBodyException("required: a JSON RealSpec body", null));
            return Json(dto, 201, $"/api/v1/services/{proto}/{Uri.EscapeDataString(vip)}/{port}/reals/{Uri.EscapeDataString(dto.Address)}/{dto.Port}");
        });
        app.MapPut(real, async (HttpContext c, string proto, string vip, string port, string addr, string rport) =>
            Json(state.EditReal(proto, vip, port, addr, rport, await Body<RealSpec>(c) ?? new RealSpec())));
        app.MapDelete(real, (string proto, string vip, string port, string addr, string rport) =>
        {
            state.DeleteReal(proto, vip, port, addr, rport);
            return Results.NoContent();
        });
        // Health checking and drain (docs/health-checks.md).
        app.MapGet("/api/v1/health", () => Json(state.HealthReport()));
        app.MapPost(real + "/drain", async (HttpContext c, string proto, string vip, string port, string addr, string rport) =>
        {
            return Json(state.Drain(proto, vip, port, addr, rport, await Body<DrainSpec>(c)));
        });
        app.MapDelete(real + "/drain", (string proto, string vip, string port, string addr, string rport) =>
            Json(state.Undrain(proto, vip, port, addr, rport)));
        app.MapGet("/api/v1/connections", (HttpContext c) =>
        {
            int limit = int.MaxValue;
            if (c.Request.Query.TryGetValue("limit", out var l) && (!int.TryParse(l, out limit) || limit < 0))
                throw ApiException.BadRequest("limit", $"\"{l}\" is not a non-negative integer");
            return Json(state.ListConnections(limit));
        });
        app.MapGet("/api/v1/stats", () => Json(state.Stats()));
        app.MapPost("/api/v1/stats/zero", async (HttpContext c) => { state.Zero(await Body<ZeroSpec>(c)); return Results.NoContent(); });
        app.MapGet("/api/v1/timeouts", () => Json(state.GetTimeouts()));
        // Block bodies with return: an expression-bodied async (HttpContext) lambda would bind to RequestDelegate and drop the result.
        app.MapPut("/api/v1/timeouts", async (HttpContext c) =>
        {
            return Json(state.SetTimeouts(await Body<TimeoutsDto>(c) ?? throw new BadBodyException("required: a JSON TimeoutsDto body", null)));
        });
        app.MapGet("/api/v1/director", () => Json(state.DirectorStatus()));
        app.MapGet("/api/v1/sync", () => Json(Sync.SyncDto.From(state.State.Sync)));
        app.MapPost("/api/v1/director/drain", () => Json(state.DrainDirector(true)));
        app.MapDelete("/api/v1/director/drain", () => Json(state.DrainDirector(false)));
        app.MapPost("/api/v1/reload", () =>
        {
            var r = state.Reload();
            return Json(r, r.Ok ? 200 : 400);
        });
        app.MapGet("/api/v1/config.toml", () => Results.Text(ConfigRenderer.Render(state.State), "text/plain; charset=utf-8"));
        app.MapGet(TunLB.Control.Egress.EgressApi.AnswersPath, (string? session) =>
        {
            var (status, body) = TunLB.Control.Egress.EgressApi.Handle(state.State.Egress, session, Environment.TickCount64, DateTimeOffset.UtcNow);
            return Results.Json(body, ApiJson.Options, statusCode: status);
        });
        app.MapGet(EgressResultsApi.Path, () => Json(EgressResultsApi.Get(state.State)));
        app.MapPost(EgressResultsApi.ResultsPath, async (HttpContext c) =>
        {
            var (status, body) = EgressResultsApi.Post(state.State, await Body<TunLB.Control.Egress.EgressResultReport>(c), DateTimeOffset.UtcNow);
            return Json(body, status);
        });
        app.MapPost(GcApi.Path, () => Json(GcApi.Collect()));
        app.MapGet("/metrics", () => Results.Text(Metrics.Render(state.State), Metrics.ContentType));
        Status.StatusRoutes.Map(app, state.State); // status page, events, history, run-time checks
        app.MapFallback((HttpContext c) => Json(new ErrorDto($"no endpoint {c.Request.Method} {c.Request.Path}; see /api/v1/ in docs/operations.md"), 404));
    }

    // Compares hashes in constant time: neither the token's bytes nor its length show in the answer's timing.
    private static bool Authorized(HttpRequest req, byte[] tokenHash)
    {
        string? h = req.Headers.Authorization;
        if (h is null || !h.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) return false;
        var given = SHA256.HashData(Encoding.UTF8.GetBytes(h.AsSpan(7).Trim().ToString()));
        return CryptographicOperations.FixedTimeEquals(given, tokenHash);
    }

    private static IResult Json(object value, int status = 200, string? location = null) =>
        location is null ? Results.Json(value, ApiJson.Options, statusCode: status)
                         : new LocatedJson(value, status, location);

    private sealed class LocatedJson(object value, int status, string location) : IResult
    {
        public Task ExecuteAsync(HttpContext ctx)
        {
            ctx.Response.Headers.Location = location;
            return Results.Json(value, ApiJson.Options, statusCode: status).ExecuteAsync(ctx);
        }
    }

    private static Task Write(HttpContext ctx, int status, ErrorDto e)
    {
        if (ctx.Response.HasStarted) return Task.CompletedTask;
        ctx.Response.StatusCode = status;
        return ctx.Response.WriteAsJsonAsync(e, ApiJson.Options);
    }

    private sealed class BadBodyException(string message, string? field) : Exception(message)
    {
        public string? Field { get; } = field;
    }

    /// <summary>Reads a JSON body strictly (unknown fields are errors naming the field); null for an empty body.</summary>
    private static async Task<T?> Body<T>(HttpContext c) where T : class
    {
        using var ms = new MemoryStream();
        await c.Request.Body.CopyToAsync(ms);
        if (ms.Length == 0 || ms.ToArray().All(b => b is (byte)' ' or (byte)'\n' or (byte)'\r' or (byte)'\t')) return null;
        if (c.Request.ContentType is { } ct && !ct.StartsWith("application/json", StringComparison.OrdinalIgnoreCase))
            throw new BadBodyException($"content type {ct} is not supported; send application/json", "content-type");
        try
        {
            return JsonSerializer.Deserialize<T>(ms.ToArray(), s_read);
        }
        catch (JsonException e)
        {
            string? field = FieldOf(e);
            string msg = e.Message;
            int cut = msg.IndexOf(" Path:", StringComparison.Ordinal);
            if (cut > 0) msg = msg[..cut];
            throw new BadBodyException($"invalid JSON: {msg}", field);
        }
    }

    // "$.weight" -> "weight"; for unmapped members the name is in the message ('wieght').
    private static string? FieldOf(JsonException e)
    {
        var m = System.Text.RegularExpressions.Regex.Match(e.Message, "JSON property '([^']*)' could not be mapped");
        if (m.Success) return m.Groups[1].Value;
        if (e.Path is { Length: > 2 } p && p.StartsWith("$.", StringComparison.Ordinal))
        {
            var f = p[2..];
            int i = f.IndexOfAny(['.', '[']);
            return i > 0 ? f[..i] : f;
        }
        return null;
    }
}
