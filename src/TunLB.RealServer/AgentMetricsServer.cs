using System.Net;
using System.Net.Sockets;
using System.Text;
using TunLB.Control.Configuration;

namespace TunLB.RealServer;

/// <summary>
/// Serves <see cref="AgentMetrics"/> on <c>[realserver] metrics</c>: a minimal HTTP/1.1 responder (GET /metrics, one
/// request per connection), so a Prometheus scrape or `curl` reads the agent's counters while it runs.
/// </summary>
public sealed class AgentMetricsServer : IDisposable
{
    private const int MaxRequestBytes = 8192;
    private readonly TcpListener _listener;
    private readonly Func<string> _render;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    private AgentMetricsServer(TcpListener l, Func<string> render)
    {
        _listener = l;
        _render = render;
        _loop = Task.Run(LoopAsync);
    }

    public IPEndPoint EndPoint => (IPEndPoint)_listener.LocalEndpoint;

    /// <summary>Starts the server when metrics is set; null otherwise.</summary>
    public static AgentMetricsServer? StartIfEnabled(RealServerConfig cfg, Func<string> render) =>
        cfg.MetricsPort == 0 ? null : Start(IPAddress.Parse(cfg.MetricsHost), cfg.MetricsPort, render);

    public static AgentMetricsServer Start(IPAddress address, int port, Func<string> render)
    {
        var l = new TcpListener(address, port);
        l.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        l.Start();
        return new AgentMetricsServer(l, render);
    }

    /// <summary>For the ready line.</summary>
    public string Describe() => $"metrics on http://{EndPoint}/metrics";

    private async Task LoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket s;
            try { s = await _listener.AcceptSocketAsync(_stop.Token).ConfigureAwait(false); }
            catch { return; }
            _ = Task.Run(() => AnswerAsync(s));
        }
    }

    private async Task AnswerAsync(Socket s)
    {
        using (s)
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token))
        {
            try
            {
                timeout.CancelAfter(5000); // a client that sends no request does not hold a task for long
                var buf = new byte[MaxRequestBytes];
                int n = 0;
                while (n < buf.Length && buf.AsSpan(0, n).IndexOf("\r\n\r\n"u8) < 0)
                {
                    int r = await s.ReceiveAsync(buf.AsMemory(n), SocketFlags.None, timeout.Token).ConfigureAwait(false);
                    if (r == 0) break;
                    n += r;
                }
                string line = Encoding.ASCII.GetString(buf, 0, n).Split("\r\n")[0];
                bool ok = line.StartsWith("GET /metrics ", StringComparison.Ordinal) || line.StartsWith("GET / ", StringComparison.Ordinal);
                string body = ok ? _render() : "not found: GET /metrics\n";
                byte[] b = Encoding.UTF8.GetBytes(body);
                string head = $"HTTP/1.1 {(ok ? "200 OK" : "404 Not Found")}\r\nContent-Type: {AgentMetrics.ContentType}\r\n" +
                              $"Content-Length: {b.Length}\r\nConnection: close\r\n\r\n";
                await s.SendAsync(Encoding.ASCII.GetBytes(head), SocketFlags.None, timeout.Token).ConfigureAwait(false);
                await s.SendAsync(b, SocketFlags.None, timeout.Token).ConfigureAwait(false);
                s.Shutdown(SocketShutdown.Send);
            }
            catch { /* the client went away or timed out */ }
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        try { _loop.Wait(1000); } catch { }
        _stop.Dispose();
    }
}
