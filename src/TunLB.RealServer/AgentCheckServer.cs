using System.Net;
using System.Net.Sockets;
using System.Text;
using TunLB.Control.Configuration;

namespace TunLB.RealServer;

/// <summary>
/// Serves HAProxy's agent-check protocol on [realserver] agent_port: each connection gets one line built from
/// the state file (<see cref="AgentCheckState"/>) and is closed. The director's agent check (type = "agent")
/// reads it, so an operator drains a real server from the real server: `tunlb realserver drain`.
/// </summary>
public sealed class AgentCheckServer : IDisposable
{
    private readonly TcpListener _listener;
    private readonly string _stateFile;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public long Answered;

    private AgentCheckServer(TcpListener l, string stateFile)
    {
        _listener = l;
        _stateFile = stateFile;
        _loop = Task.Run(LoopAsync);
    }

    public IPEndPoint EndPoint => (IPEndPoint)_listener.LocalEndpoint;

    /// <summary>Starts the server when agent_port is set; null otherwise.</summary>
    public static AgentCheckServer? StartIfEnabled(RealServerConfig cfg) =>
        cfg.AgentPort == 0 ? null : Start(IPAddress.Parse(cfg.AgentListen), cfg.AgentPort, cfg.AgentStateFile);

    public static AgentCheckServer Start(IPAddress address, int port, string stateFile)
    {
        var l = new TcpListener(address, port);
        l.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        l.Start();
        return new AgentCheckServer(l, stateFile);
    }

    /// <summary>For the ready line: "agent-check on 0.0.0.0:9402 (state ready from /run/tunlb/agent-state)".</summary>
    public string Describe() => $"agent-check on {EndPoint} (state {AgentCheckState.Read(_stateFile).State} from {_stateFile})";

    private async Task LoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket s;
            try { s = await _listener.AcceptSocketAsync(_stop.Token).ConfigureAwait(false); }
            catch { return; }
            _ = Task.Run(async () =>
            {
                using (s)
                {
                    try
                    {
                        var (state, weight) = AgentCheckState.Read(_stateFile);
                        await s.SendAsync(Encoding.ASCII.GetBytes(AgentCheckState.Reply(state, weight)), SocketFlags.None).ConfigureAwait(false);
                        s.Shutdown(SocketShutdown.Send);
                        Interlocked.Increment(ref Answered);
                    }
                    catch { /* the checker went away */ }
                }
            });
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
