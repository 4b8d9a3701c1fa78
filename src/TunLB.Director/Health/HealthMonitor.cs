using System.Net;
using System.Net.Sockets;
using TunLB.Health;
using TunLB.Core.DataPath;
using TunLB.Director.Management;

namespace TunLB.Director.Health;

/// <summary>
/// Runs the health checks of a <see cref="DirectorState"/>: a scheduler loop takes due checks every 100 ms,
/// runs each on the thread pool (one at a time per real), and reports the result back to the state, which
/// owns the state machines, failure actions, quorum and logging. Checks through the tunnel bind their
/// sockets to the director's address toward the real server and a source port from the reserved range,
/// pinned in the engine's <see cref="PinnedFlows"/> to that one real server.
/// </summary>
public sealed class HealthMonitor : IAsyncDisposable
{
    private readonly DirectorState _state;
    private readonly PinnedFlows _pins;
    private readonly CancellationTokenSource _stop = new();
    private readonly object _portGate = new();
    private readonly bool[] _leased;
    private int _nextPort;
    private Task? _loop;

    public HealthMonitor(DirectorState state)
    {
        _state = state;
        var s = state.Settings;
        _pins = state.Engine.Pinned ?? new PinnedFlows(s.CheckPortFirst, s.CheckPortLast - s.CheckPortFirst + 1);
        _leased = new bool[_pins.Count];
        state.SetPinned(_pins); // every worker: the kernel queues a check's packets on any of them
    }

    public PinnedFlows Pins => _pins;

    /// <summary>How long a port stays pinned after its check ends.</summary>
    public static readonly TimeSpan ReleaseDelay = TimeSpan.FromSeconds(2);

    public void Start() => _loop = Task.Run(() => LoopAsync(_stop.Token));

    private async Task LoopAsync(CancellationToken ct)
    {
        var time = _state.Time;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                foreach (var (h, gen) in _state.TakeDueChecks(time.GetUtcNow()))
                    _ = RunOneAsync(h, gen, ct);
                _state.HealthTick();
            }
            catch (Exception e) { Console.Error.WriteLine($"tunlb director: health: {e.Message}"); }
            try { await Task.Delay(TimeSpan.FromMilliseconds(100), time, ct).ConfigureAwait(false); }
            catch (OperationCanceledException) { break; }
        }
    }

    private async Task RunOneAsync(RealHealth h, long generation, CancellationToken ct)
    {
        CheckResult result;
        try
        {
            result = await Checkers.For(h.Spec.Type).CheckAsync(Context(h), ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { return; }
        catch (Exception e) { result = CheckResult.Fail($"check error: {e.Message}", TimeSpan.Zero); }
        _state.ReportCheck(h.Dest.Id, result, _state.Time.GetUtcNow(), generation);
    }

    /// <summary>The target and socket binding of one check.</summary>
    public CheckContext Context(RealHealth h)
    {
        var d = h.Dest;
        var spec = h.Spec;
        var key = h.ServiceKey;
        var real = IPAddress.Parse(d.Address.ToString());
        var vip = IPAddress.Parse(key.Vip.ToString());
        int port = spec.PortFor(d.Port);
        bool tunnel = spec.ViaTunnel;
        var source = IPAddress.Parse(d.OuterSource.ToString());
        int id = d.Id;
        return new CheckContext
        {
            Spec = spec,
            Target = new IPEndPoint(tunnel ? vip : real, port),
            RealAddress = real,
            RealPort = d.Port,
            Vip = vip,
            ServicePort = key.Port,
            Binder = tunnel ? (sock, proto) => Bind(sock, proto, source, id) : null,
            Time = _state.Time,
        };
    }

    /// <summary>Binds to (source, a free port of the range) and pins that port to the destination; the lease unpins it.</summary>
    private IDisposable Bind(Socket sock, ProtocolType proto, IPAddress source, int destinationId)
    {
        SocketException? last = null;
        for (int attempt = 0; attempt < Math.Min(64, _leased.Length); attempt++)
        {
            int slot;
            lock (_portGate)
            {
                slot = -1;
                for (int i = 0; i < _leased.Length; i++)
                {
                    int k = (_nextPort + i) % _leased.Length;
                    if (!_leased[k]) { slot = k; break; }
                }
                if (slot < 0) throw new InvalidOperationException($"all {_leased.Length} check ports are in use");
                _leased[slot] = true;
                _nextPort = (slot + 1) % _leased.Length;
            }
            ushort port = (ushort)(_pins.FirstPort + slot);
            try
            {
                sock.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
                // Pin before bind: the first packet (SYN) may leave as soon as connect starts.
                _pins.Pin(port, proto == ProtocolType.Tcp ? (byte)6 : (byte)17, destinationId);
                sock.Bind(new IPEndPoint(source, port));
                return new Lease(this, slot, port);
            }
            catch (SocketException e)
            {
                last = e;
                _pins.Unpin(port);
                lock (_portGate) _leased[slot] = false; // in use by someone else: try the next one
            }
        }
        throw last ?? new SocketException((int)SocketError.AddressAlreadyInUse);
    }

    private sealed class Lease(HealthMonitor m, int slot, ushort port) : IDisposable
    {
        private int _done;
        public void Dispose()
        {
            if (Interlocked.Exchange(ref _done, 1) != 0) return;
            // Keep the pin a little longer: the RST or last ACK the kernel sends after close() still has to be
            // forwarded to the same real server by the worker, which may not have seen it yet.
            _ = Task.Delay(ReleaseDelay).ContinueWith(_ =>
            {
                m._pins.Unpin(port);
                lock (m._portGate) m._leased[slot] = false;
            }, TaskScheduler.Default);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        if (_loop is not null)
            try { await _loop.ConfigureAwait(false); } catch { }
        _stop.Dispose();
    }
}
