using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using TunLB.Control.Api;
using TunLB.Control.Egress;
using TunLB.Core.Egress;

namespace TunLB.Cli.Egress;

/// <summary>
/// The HTTP side of `tunlb egress-listen`: serves <see cref="EgressApi.AnswersPath"/> from a recorder. Loopback by
/// default; any other address needs a bearer token (like the director API). A minimal HTTP/1.1 server on a
/// <see cref="TcpListener"/> (one request per connection, GET only): HttpListener on Linux cannot bind an IPv6 literal.
/// </summary>
public sealed class EgressListenServer : IDisposable
{
    private const int MaxRequestBytes = 8192;
    private readonly TcpListener _listener;
    private readonly EgressAnswerRecorder _recorder;
    private readonly Func<long> _nowMs;
    private readonly string _token;
    private readonly Thread _thread;
    private volatile bool _stopped;

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
        _listener = new TcpListener(addr, port);
        _listener.Start();
        port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        Prefix = addr.AddressFamily == AddressFamily.InterNetworkV6 ? $"http://[{addr}]:{port}/" : $"http://{addr}:{port}/";
        _thread = new Thread(Serve) { IsBackground = true, Name = "egress http" };
        _thread.Start();
    }

    private void Serve()
    {
        while (!_stopped)
        {
            TcpClient c;
            try { c = _listener.AcceptTcpClient(); }
            catch { return; }
            using (c)
            {
                try
                {
                    c.ReceiveTimeout = 3000;
                    c.SendTimeout = 3000;
                    Handle(c.GetStream());
                }
                catch { }
            }
        }
    }

    private void Handle(NetworkStream stream)
    {
        // Read the request head (no body is expected for GET).
        var buf = new byte[MaxRequestBytes];
        int n = 0;
        while (n < buf.Length)
        {
            int r = stream.Read(buf, n, buf.Length - n);
            if (r <= 0) return;
            n += r;
            if (buf.AsSpan(0, n).IndexOf("\r\n\r\n"u8) >= 0) break;
        }
        var lines = Encoding.ASCII.GetString(buf, 0, n).Split("\r\n");
        var first = lines[0].Split(' ');
        if (first.Length != 3) return;
        string method = first[0], target = first[1];
        string? auth = lines.Skip(1).FirstOrDefault(l => l.StartsWith("Authorization:", StringComparison.OrdinalIgnoreCase))?[14..].Trim();
        int q = target.IndexOf('?');
        string path = q < 0 ? target : target[..q];
        string? session = null;
        if (q >= 0)
            foreach (var kv in target[(q + 1)..].Split('&'))
                if (kv.StartsWith("session=", StringComparison.Ordinal)) session = Uri.UnescapeDataString(kv[8..]);

        int status; object body;
        string extra = "";
        if (_token.Length > 0 && !TokenMatches(auth))
        {
            status = 401; body = new ErrorDto("missing or wrong bearer token");
            extra = "WWW-Authenticate: Bearer\r\n";
        }
        else if (method != "GET") { status = 405; body = new ErrorDto("only GET"); }
        else if (path != EgressApi.AnswersPath) { status = 404; body = new ErrorDto($"not found; the endpoint is GET {EgressApi.AnswersPath}?session=ID"); }
        else (status, body) = EgressApi.Handle(_recorder, session, _nowMs(), DateTimeOffset.UtcNow);

        var bytes = JsonSerializer.SerializeToUtf8Bytes(body, body.GetType(), ApiJson.Options);
        string reason = status switch { 200 => "OK", 400 => "Bad Request", 401 => "Unauthorized", 404 => "Not Found", _ => "Method Not Allowed" };
        var head = Encoding.ASCII.GetBytes($"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {bytes.Length}\r\n{extra}Connection: close\r\n\r\n");
        stream.Write(head);
        stream.Write(bytes);
    }

    private bool TokenMatches(string? header)
    {
        if (header is null || !header.StartsWith("Bearer ", StringComparison.Ordinal)) return false;
        return CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(header[7..].Trim()), Encoding.UTF8.GetBytes(_token));
    }

    public void Dispose()
    {
        _stopped = true;
        try { _listener.Stop(); } catch { }
        _thread.Join(2000);
    }
}
