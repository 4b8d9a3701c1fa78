using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using TunLB.Control.Api;

namespace TunLB.Cli.Adm;

/// <summary>The API answered with an error (ErrorDto's message, or the HTTP status when there is none).</summary>
public sealed class AdmApiException(int status, string message, IReadOnlyList<string>? details = null) : Exception(message)
{
    public int Status { get; } = status;
    /// <summary>The API's per-item errors (a refused batch lists every refused operation).</summary>
    public IReadOnlyList<string> Details { get; } = details ?? [];
}

/// <summary>The director's API could not be reached at all.</summary>
public sealed class AdmUnreachableException(string baseUrl, string detail) : Exception(detail)
{
    public string BaseUrl { get; } = baseUrl;
}

/// <summary>HTTP/JSON client for the director's management API (see ApiModels.cs for the endpoints).</summary>
public sealed class AdmClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly AdmCertificateCheck? _check;

    public string BaseUrl { get; }

    /// <param name="hostPort">"host:port" or "[v6]:port" (plain HTTP), or an http:// or https:// URL.</param>
    /// <param name="trust">How an https:// API's certificate is checked (default: the system's store and the host name).</param>
    /// <exception cref="AdmTrustException">The CA file of <paramref name="trust"/> cannot be read.</exception>
    public AdmClient(string hostPort, string? token, TimeSpan? timeout = null, HttpMessageHandler? handler = null, AdmTrust? trust = null)
    {
        BaseUrl = ToBaseUrl(hostPort);
        if (handler is null)
        {
            _check = new AdmCertificateCheck(trust ?? AdmTrust.Default);
            handler = new SocketsHttpHandler { SslOptions = { RemoteCertificateValidationCallback = _check.Validate } };
        }
        _http = new HttpClient(handler);
        _http.BaseAddress = new Uri(BaseUrl + "/");
        _http.Timeout = timeout ?? TimeSpan.FromSeconds(15);
        if (!string.IsNullOrEmpty(token))
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
    }

    public static string ToBaseUrl(string hostPort)
    {
        var t = hostPort.Trim();
        if (t.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || t.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
            return t.TrimEnd('/');
        // A bare IPv6 literal with a port but no brackets can't be told apart; leave other forms as given.
        return "http://" + t;
    }

    public InfoDto GetInfo() => Get<InfoDto>("api/v1/info");
    public IReadOnlyList<ServiceDto> GetServices() => Get<List<ServiceDto>>("api/v1/services");
    public ServiceDto GetService(AdmService s) => Get<ServiceDto>(ServicePath(s));
    public void AddService(ServiceSpec spec) => Send(HttpMethod.Post, "api/v1/services", spec);
    public void EditService(AdmService s, ServiceSpec spec) => Send(HttpMethod.Put, ServicePath(s), spec);
    public void DeleteService(AdmService s) => Send(HttpMethod.Delete, ServicePath(s), null);
    public void Clear() => Send(HttpMethod.Delete, "api/v1/services", null);
    public void AddReal(AdmService s, RealSpec spec) => Send(HttpMethod.Post, ServicePath(s) + "/reals", spec);
    public void EditReal(AdmService s, IPAddress addr, int port, RealSpec spec) => Send(HttpMethod.Put, RealPath(s, addr, port), spec);
    public void DeleteReal(AdmService s, IPAddress addr, int port) => Send(HttpMethod.Delete, RealPath(s, addr, port), null);
    public void Drain(AdmService s, IPAddress addr, int port, bool removeWhenIdle) =>
        Send(HttpMethod.Post, RealPath(s, addr, port) + "/drain", new DrainSpec(removeWhenIdle));
    public void Undrain(AdmService s, IPAddress addr, int port) => Send(HttpMethod.Delete, RealPath(s, addr, port) + "/drain", null);
    /// <summary>TunLB: withdraw (true) or announce again (false) every VIP of the director (announce = true).</summary>
    public void DrainDirector(bool drain) => Send(drain ? HttpMethod.Post : HttpMethod.Delete, "api/v1/director/drain", null);
    /// <summary>TunLB: a check as JSON keys of [service.check]; null body = remove (DELETE).</summary>
    public void SetCheck(string path, string? json)
    {
        var req = new HttpRequestMessage(json is null ? HttpMethod.Delete : HttpMethod.Put, path + "/check");
        if (json is not null) req.Content = new StringContent(json, Encoding.UTF8, "application/json");
        using var resp = Exchange(req);
    }
    public DirectorStatusDto GetDirector() => Get<DirectorStatusDto>("api/v1/director");
    /// <summary>GET /api/v1/config.toml: the running state rendered as a config file.</summary>
    public string GetConfigToml()
    {
        using var resp = Exchange(new HttpRequestMessage(HttpMethod.Get, "api/v1/config.toml"));
        return resp.Content.ReadAsStringAsync().GetAwaiter().GetResult();
    }

    public IReadOnlyList<ConnectionDto> GetConnections() => Get<List<ConnectionDto>>("api/v1/connections");
    public void Zero(ZeroSpec? spec) => Send(HttpMethod.Post, "api/v1/stats/zero", spec);
    public TimeoutsDto GetTimeouts() => Get<TimeoutsDto>("api/v1/timeouts");
    public void SetTimeouts(TimeoutsDto t) => Send(HttpMethod.Put, "api/v1/timeouts", t);
    /// <summary>All or nothing (tunlb adm -R).</summary>
    public void Batch(BatchSpec spec) => Send(HttpMethod.Post, "api/v1/batch", spec);

    public static string ServicePath(AdmService s) =>
        $"api/v1/services/{s.Protocol}/{Uri.EscapeDataString(s.Vip)}/{s.Port}";

    public static string RealPath(AdmService s, IPAddress addr, int port) =>
        $"{ServicePath(s)}/reals/{Uri.EscapeDataString(addr.ToString())}/{port}";

    private T Get<T>(string path)
    {
        using var resp = Exchange(new HttpRequestMessage(HttpMethod.Get, path));
        try
        {
            using var stream = resp.Content.ReadAsStream();
            return JsonSerializer.Deserialize<T>(stream, ApiJson.Options)
                   ?? throw new AdmApiException((int)resp.StatusCode, "empty answer from the director API");
        }
        catch (JsonException e)
        {
            throw new AdmApiException((int)resp.StatusCode, $"unexpected answer from the director API: {e.Message}");
        }
    }

    private void Send(HttpMethod method, string path, object? body)
    {
        var req = new HttpRequestMessage(method, path);
        if (body is not null)
            req.Content = new StringContent(JsonSerializer.Serialize(body, body.GetType(), ApiJson.Options), Encoding.UTF8, "application/json");
        using var resp = Exchange(req);
    }

    private HttpResponseMessage Exchange(HttpRequestMessage req)
    {
        HttpResponseMessage resp;
        try
        {
            resp = _http.Send(req);
        }
        catch (HttpRequestException e)
        {
            throw new AdmUnreachableException(BaseUrl, Explain(e));
        }
        catch (OperationCanceledException)
        {
            throw new AdmUnreachableException(BaseUrl, $"no answer within {_http.Timeout.TotalSeconds:0} s");
        }
        catch (SocketException e)
        {
            throw new AdmUnreachableException(BaseUrl, e.Message);
        }
        finally
        {
            req.Dispose();
        }
        if (resp.IsSuccessStatusCode) return resp;
        using (resp)
        {
            var (message, details) = ErrorMessage(resp);
            throw new AdmApiException((int)resp.StatusCode, message, details);
        }
    }

    private static (string, IReadOnlyList<string>?) ErrorMessage(HttpResponseMessage resp)
    {
        string text = "";
        try { text = resp.Content.ReadAsStringAsync().GetAwaiter().GetResult(); } catch (HttpRequestException) { }
        if (text.Length > 0)
        {
            try
            {
                var err = JsonSerializer.Deserialize<ErrorDto>(text, ApiJson.Options);
                if (err is { Error.Length: > 0 }) return (err.Error, err.Details);
            }
            catch (JsonException) { }
        }
        return (resp.StatusCode switch
        {
            HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden =>
                $"the director API refused the request (HTTP {(int)resp.StatusCode}); check --token / TUNLB_API_TOKEN",
            _ => $"the director API answered HTTP {(int)resp.StatusCode} {resp.ReasonPhrase}",
        }, null);
    }

    // The TLS stack's "the remote certificate is invalid" says nothing of why: the check kept the reason.
    private string Explain(HttpRequestException e)
    {
        if (e.HttpRequestError == HttpRequestError.SecureConnectionError && _check?.LastRefusal is { } why)
            return $"TLS: the server's certificate was refused: {why}; -k/--insecure skips the check";
        var text = Innermost(e);
        if (BaseUrl.StartsWith("http://", StringComparison.OrdinalIgnoreCase) && e.HttpRequestError == HttpRequestError.ResponseEnded)
            text += " (if the director serves TLS, api_tls_cert, use an https:// address)";
        return text;
    }

    private static string Innermost(Exception e)
    {
        while (e.InnerException is not null) e = e.InnerException;
        return e.Message;
    }

    public void Dispose() => _http.Dispose();
}
