using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using TunLB.Control.Api;
using TunLB.Control.Egress;
using TunLB.Core.Egress;

namespace TunLB.Cli.Egress;

/// <summary>
/// The HTTP side of `tunlb egress-listen`: serves <see cref="EgressApi.AnswersPath"/> from a recorder with
/// <see cref="HttpListener"/>. Loopback by default; any other address needs a bearer token (like the director API).
/// </summary>
public sealed class EgressListenServer : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly EgressAnswerRecorder _recorder;
    private readonly Func<long> _nowMs;
    private readonly string _token;
    private readonly Thread _thread;

    public string Prefix { get; }

    /// <summary>Parses "host:port" or "[v6]:port". Throws ArgumentException with a message fit for the user.</summary>
    public static (IPAddress Address, int Port) ParseListen(string listen)
    {
        int colon = listen.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(listen[(colon + 1)..], out int port) || port is < 1 or > 65535)
            throw new ArgumentException($"--listen {listen}: expected ADDRESS:PORT");
        var host = listen[..colon].Trim('[', ']');
        if (!IPAddress.TryParse(host, out var addr)) throw new ArgumentException($"--listen {listen}: {host} is not an IP address");
        return (addr, port);
    }

    public EgressListenServer(string listen, string? token, EgressAnswerRecorder recorder, Func<long> nowMs)
    {
        var (addr, port) = ParseListen(listen);
        _token = token ?? "";
        if (!IPAddress.IsLoopback(addr) && _token.Length == 0)
            throw new ArgumentException($"--listen {listen} is not a loopback address: set --token so that only egress-check can read the answers");
        _recorder = recorder;
        _nowMs = nowMs;
        string host = addr.Equals(IPAddress.Any) ? "+" : addr.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{addr}]" : addr.ToString();
        Prefix = $"http://{host}:{port}/";
        _listener.Prefixes.Add(Prefix);
        _listener.Start();
        _thread = new Thread(Serve) { IsBackground = true, Name = "egress http" };
        _thread.Start();
    }

    private void Serve()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext ctx;
            try { ctx = _listener.GetContext(); }
            catch { return; }
            try { Handle(ctx); }
            catch { try { ctx.Response.Abort(); } catch { } }
        }
    }

    private void Handle(HttpListenerContext ctx)
    {
        var req = ctx.Request;
        int status; object body;
        if (_token.Length > 0 && !TokenMatches(req.Headers["Authorization"]))
        {
            status = 401; body = new ErrorDto("missing or wrong bearer token");
            ctx.Response.AddHeader("WWW-Authenticate", "Bearer");
        }
        else if (req.HttpMethod != "GET") { status = 405; body = new ErrorDto("only GET"); }
        else if (req.Url?.AbsolutePath != EgressApi.AnswersPath) { status = 404; body = new ErrorDto($"not found; the endpoint is GET {EgressApi.AnswersPath}?session=ID"); }
        else (status, body) = EgressApi.Handle(_recorder, req.QueryString["session"], _nowMs(), DateTimeOffset.UtcNow);

        var bytes = JsonSerializer.SerializeToUtf8Bytes(body, body.GetType(), ApiJson.Options);
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = "application/json";
        ctx.Response.ContentLength64 = bytes.Length;
        ctx.Response.OutputStream.Write(bytes);
        ctx.Response.Close();
    }

    private bool TokenMatches(string? header)
    {
        if (header is null || !header.StartsWith("Bearer ", StringComparison.Ordinal)) return false;
        return CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(header[7..].Trim()), Encoding.UTF8.GetBytes(_token));
    }

    public void Dispose()
    {
        try { _listener.Stop(); _listener.Close(); } catch { }
        _thread.Join(2000);
    }
}
