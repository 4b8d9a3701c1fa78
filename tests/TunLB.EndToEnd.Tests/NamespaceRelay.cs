using System.Net;
using System.Net.Sockets;
using TunLB.Linux;

namespace TunLB.EndToEnd.Tests;

/// <summary>
/// A TCP relay from 127.0.0.1:<see cref="Port"/> in the test's own namespace to 127.0.0.1:<c>target</c> inside a lab
/// namespace, so a browser started here (whose DevTools socket must stay reachable) can open a page served in the lab.
/// Each outgoing socket is created by a thread that entered the namespace (sockets keep their namespace).
/// </summary>
internal sealed class NamespaceRelay : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Socket> _open = [];

    public NamespaceRelay(string ns, int target)
    {
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _ = Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                Socket client;
                try { client = await _listener.AcceptSocketAsync(_stop.Token); }
                catch { return; }
                Socket inner;
                try
                {
                    inner = NetworkNamespace.Run(ns, () =>
                    {
                        var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                        s.Connect(IPAddress.Loopback, target);
                        return s;
                    });
                }
                catch { client.Dispose(); continue; }
                lock (_open) { _open.Add(client); _open.Add(inner); }
                _ = Pump(client, inner);
                _ = Pump(inner, client);
            }
        });
    }

    public int Port { get; }

    private async Task Pump(Socket from, Socket to)
    {
        var buf = new byte[16384];
        try
        {
            int n;
            while ((n = await from.ReceiveAsync(buf, SocketFlags.None, _stop.Token)) > 0)
                await to.SendAsync(buf.AsMemory(0, n), SocketFlags.None, _stop.Token);
            to.Shutdown(SocketShutdown.Send);
        }
        catch { try { to.Close(); } catch { } }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        lock (_open) foreach (var s in _open) s.Dispose();
    }
}
