using TunLB.Control.Configuration;
using TunLB.Core.DataPath;
using TunLB.Core.Flows;
using TunLB.Core.Model;
using TunLB.Core.Packets;
using TunLB.Director.Announce;
using TunLB.Director.Api;
using TunLB.Director.Health;
using TunLB.Director.Management;
using TunLB.Director.Sync;
using TunLB.Director.Workers;
using TunLB.Linux;

namespace TunLB.Director;

/// <summary>
/// The director process, wired: a TUN device with one route per VIP (<see cref="VipRoutes"/>), an AF_PACKET capture
/// (<see cref="AfPacketCapture"/>) or AF_XDP sockets (<see cref="XdpCapture"/>), chosen by <see cref="DirectorCapture"/>, feed the workers (<see cref="DirectorWorker"/>), which run the core engine and send
/// through <see cref="OutputSender"/>; beside them the path-MTU learners, health checks, the rate estimator and the
/// management API. Everything it sets up on the host is undone on Dispose.
/// </summary>
/// <remarks>
/// The management logic lives in <see cref="DirectorState"/> (no I/O); the packet loop in <see cref="DirectorWorker"/>.
/// <para>With <c>workers = N</c> above 1 the TUN device is opened N times with IFF_MULTI_QUEUE: one queue (file
/// descriptor) per worker. The kernel picks a packet's queue from its flow hash, so a TCP or UDP flow stays on
/// one worker. Each worker owns its queue, its engine (connection and fragment tables), its output buffers and
/// its own raw sockets (<see cref="OutputSender"/>): nothing is shared on the per-packet path.</para>
/// </remarks>
public sealed class DirectorRuntime : IDisposable
{
    private readonly DirectorConfig _cfg;
    private readonly TextWriter _log;
    private readonly TextWriter _err;
    private readonly HostNetwork _net = new();
    private string? _dev;
    private List<TunDevice> _tuns = [];
    private VipRoutes? _routes;
    private OutputSender[] _txs = [];
    private NextHopTable? _hops;
    private DirectorCapture? _capture;   // what feeds the workers (io)
    private LocalVips? _local;
    private IPacketReceiver[] _ports = [];  // what each worker reads: its TUN queue or its capture ring
    private PathMtuLearner? _pmtu, _pmtu6;
    private DirectorWorker[] _workers = [];
    private Thread[] _threads = [];
    private Timer? _estimator;
    private ApiServer? _api;
    private HealthMonitor? _health;
    private Announcer? _announcer;      // announce = true
    private SyncService? _sync;         // [sync]
    private volatile bool _stop;

    public DirectorRuntime(DirectorConfig cfg, TextWriter log, TextWriter? err = null)
    {
        _cfg = cfg; _log = log; _err = err ?? log;
        State = new DirectorState(cfg, new DirectorStateOptions
        {
            OuterSource = _net.SourceAddressToward,
            PathMtu = a => RoutePath.Mtu(_net, a),
            Log = Log,
            LogError = LogError,
        });
    }

    public DirectorState State { get; }
    public DirectorEngine Engine => State.Engine;
    public IReadOnlyList<VirtualService> Services => State.Services;

    /// <summary>
    /// Progress of the slowest worker: each worker counts its loops (at least one every 100 ms while it runs), and
    /// this is the smallest count, so it stands still when any worker hangs: the watchdog's proof of progress.
    /// </summary>
    public long Heartbeat
    {
        get
        {
            var workers = _workers;
            if (workers.Length == 0) return 0;
            long min = long.MaxValue;
            foreach (var w in workers) min = Math.Min(min, w.Heartbeat);
            return min;
        }
    }

    /// <summary>True while every worker thread runs.</summary>
    public bool WorkerAlive => _threads.Length > 0 && _threads.All(t => t.IsAlive);

    /// <summary>Data-path workers (TUN queues).</summary>
    public int Workers => State.Engines.Length;

    /// <summary>The API's base address once started.</summary>
    public string? ApiAddress => _api?.BaseAddress;

    /// <summary>
    /// txqueuelen of the TUN device with io = "tun" (packets the kernel holds for the workers). Filling a 1,000,000-entry
    /// table at 100,000 SYNs/s lost 163,447 of 1,032,176 with the default 500 and 42,551 with 4096 (16384: no better).
    /// </summary>
    public const int TunQueueLength = 4096;

    public string Start()
    {
        try
        {
            var d = _cfg.Director;
            // What a director that died (kill -9) left is undone first and listed (HostJournal, docs/robustness.md).
            _net.Journal = HostJournal.For("director-" + d.TunName);
            foreach (var line in _net.Journal.Recover()) LogError("tunlb director: " + line);
            foreach (var line in HostJournal.SweepOrphans()) Log("tunlb director: " + line);
            int workers = State.Engines.Length;
            // One queue per worker; a single worker keeps the plain (single-queue) device. With io = "afpacket" the workers
            // read capture rings instead and the TUN device only swallows the director's own health checks: one queue.
            // With xdp (and auto, until it knows) the workers read their queue beside their sockets: opened by the capture.
            _tuns = [TunDevice.Open(d.TunName, out var dev, multiQueue: workers > 1 && d.Io != IoBackend.AfPacket)];
            _dev = dev;
            _routes = new VipRoutes(_net, dev, Log, LogError);
            bool anyV6 = _cfg.Services.Any(s => !s.Vip.IsV4 || s.Reals.Any(r => !r.Address.IsV4));
            // Without IPv6 keep the kernel from sending router solicitations and MLD into the device. Set before link up.
            if (anyV6) _routes.EnableIpv6();
            else _net.WriteSysctl($"net.ipv6.conf.{dev}.disable_ipv6", "1");
            _net.SetLinkUp(dev, d.TunMtu);
            // The device's queue is the director's only buffer with io = "tun": 500 packets (the default) are cut by a burst
            // of a few hundred microseconds at line rate while the worker is not scheduled. The device is ours (deleted on exit).
            if (d.Io != IoBackend.AfPacket) _net.RunIp("link", "set", "dev", dev, "txqueuelen", TunQueueLength.ToString(System.Globalization.CultureInfo.InvariantCulture));
            _net.WriteSysctl("net.ipv4.ip_forward", "1");
            _routes.Sync(State.Vips, throwOnError: true);
            string io = StartCapture(workers);
            _local = new LocalVips(_net, dev, _routes, _capture.AfPacket, Endpoints,
                () => State.CheckedReals().Where(x => x.Tunnel).Select(x => x.Address), Log, LogError);
            _local.Start();
            State.VipsChanged = vips =>
            {
                if (_stop) return;
                _routes.Sync(vips, throwOnError: false);
                _local.Update();
                UpdateCapture();
            };
            string tx = OpenSenders(workers, anyV6);
            _pmtu = new PathMtuLearner(RawIpSocket.OpenReceiver(IpProtocol.Icmp), ipv6: false, () => State.Services, d.PmtuExpires, Log);
            _pmtu.Start();
            if (anyV6)
            {
                _pmtu6 = new PathMtuLearner(RawIp6Socket.OpenReceiver(IpProtocol.Icmpv6), ipv6: true, () => State.Services, d.PmtuExpires, Log);
                _pmtu6.Start();
            }
            OpenSync(); // the engines' sync rings, before the workers start
            StartWorkers(workers);
            _estimator = new Timer(_ => SampleRates(), null, RateEstimator.Interval, RateEstimator.Interval);
            var health = StartHealth();
            _api = ApiServer.StartAsync(State, d, log: LogError).GetAwaiter().GetResult();
            string sync = StartSync();
            string announce = StartAnnouncing();
            var services = State.Services;
            int reals = services.Sum(s => s.Destinations.Length);
            string routes = string.Join(", ", _routes.Routed.Select(v => v + (v.IsV4 ? "/32" : "/128")));
            State.RecordEvent(EventKinds.Director, null, null, $"started: {io}; {services.Count} service(s), {reals} real server(s)");
            return $"{io}; capture device {dev} (mtu {d.TunMtu}{(_tuns.Count > 1 ? $", {_tuns.Count} queues" : "")}) routes {routes}; ip_forward=1; " +
                   (workers > 1 ? $"{workers} workers; " : "") +
                   $"{services.Count} service(s), {reals} real server(s); tx {tx}" +
                   (d.BusyPollUs > 0 ? $"; busy-poll up to {d.BusyPollUs} µs after packets" : "") + $"; api {_api.BaseAddress}" +
                   (d.ApiToken.Length > 0 ? " (bearer token required)" : "") + _local.Describe() + health + sync + announce;
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>
    /// Starts what the workers read (<see cref="DirectorCapture"/>: TUN queues, AF_PACKET rings or AF_XDP sockets) and
    /// tells the engines whether the kernel decremented the TTL on the way. Returns the startup message's io part.
    /// </summary>
    private string StartCapture(int workers)
    {
        var d = _cfg.Director;
        _capture = DirectorCapture.Start(d, _dev!, _tuns[0], () => TunQueues(workers), Endpoints(), workers, _net, LogError);
        _ports = _capture.Ports;
        State.Io = _capture.Choice;
        State.CaptureSummary = () => _capture?.Summary() ?? "";
        State.CaptureCounters = () => _capture?.Counters();
        byte ttl = (byte)(d.RestoreInnerTtl && _capture.Choice.Backend == IoBackend.Tun ? 1 : 0);
        foreach (var e in State.Engines) e.InnerTtlIncrement = ttl;
        return _capture.Describe;
    }

    /// <summary>The TUN device's queues, one per worker, opening those still missing.</summary>
    private TunDevice[] TunQueues(int workers)
    {
        while (_tuns.Count < workers) _tuns.Add(TunDevice.Open(_dev!, multiQueue: true));
        return [.. _tuns];
    }

    /// <summary>The XDP program follows the service set (afpacket follows it through <see cref="LocalVips"/>).</summary>
    private void UpdateCapture()
    {
        if (_capture is null || _stop) return;
        try { _capture.UpdateServices(Endpoints()); }
        catch (Exception e) { LogError($"tunlb director: cannot update the capture for the new service set: {e.Message}"); }
    }

    /// <summary>VIP + protocol + port of every published service: what the capture and the local-VIP steering take.</summary>
    private ServiceEndpoints Endpoints() => ServiceEndpoints.Of(State.View.Services.Select(s => s.Key));

    /// <summary>
    /// One raw socket per family and worker: IPv4 always (replies and IPIP), IPv6 when a VIP or a real server is IPv6.
    /// IPv6 too when the host has it, so IPv6 real servers added later through the API can be reached. Returns the
    /// startup message's tx part.
    /// </summary>
    private string OpenSenders(int workers, bool anyV6)
    {
        _txs = new OutputSender[workers];
        for (int w = 0; w < workers; w++)
        {
            try { _txs[w] = OutputSender.Open(ipv4: true, ipv6: true); }
            catch when (!anyV6) { _txs[w] = OutputSender.Open(ipv4: true, ipv6: false); }
        }
        var mode = _cfg.Director.Tx;
        if (mode == TxMode.Raw) { State.Tx = "raw"; return "raw IP sockets"; }
        // Tunnel packets to a resolved next hop go straight to the device (AF_PACKET), skipping the IP output path.
        _hops = new NextHopTable(TunnelDestinations, 1000, LogError);
        var (line, api) = mode == TxMode.Ring ? TxRings.Attach(_txs, _hops, _ports, LogError) : TxRings.AttachSendmmsg(_txs, _hops);
        State.Tx = api;
        return line;
    }

    private void StartWorkers(int workers)
    {
        _workers = new DirectorWorker[workers];
        _threads = new Thread[workers];
        for (int w = 0; w < workers; w++)
        {
            _workers[w] = new DirectorWorker(w, _ports[w], _txs[w], State.Engines[w], State.Egress, State.Commands, State.Sent,
                () => Environment.TickCount64, LogError, workers > 1 ? $"worker {w}" : "worker", _cfg.Director.BusyPollUs);
            _threads[w] = new Thread(_workers[w].Run) { IsBackground = true, Name = workers == 1 ? "tunlb-worker" : $"tunlb-worker{w}" };
            State.Commands.SetAttached(w, true);
        }
        foreach (var t in _threads) t.Start();
    }

    /// <summary>Starts health checking, after the host setup its checks through the tunnel need (<see cref="HealthHostSetup"/>).</summary>
    private string StartHealth()
    {
        var d = _cfg.Director;
        var checkedReals = State.CheckedReals();
        _health = new HealthMonitor(State);
        var notes = HealthHostSetup.Apply(_net, d.CheckPortRange, checkedReals.Where(x => x.Tunnel).Select(x => x.Address), _dev, LogError);
        _health.Start();
        int n = checkedReals.Count;
        if (n == 0) return "; health checks: none configured";
        return $"; health checks: {n} real(s), {checkedReals.Count(x => x.Tunnel)} through the tunnel from source ports {d.CheckPortRange}" +
               (notes.Count > 0 ? "; " + string.Join("; ", notes) : "");
    }

    /// <summary>announce = true: routes for the VIPs this director can serve in announce_table, through its own device.</summary>
    private string StartAnnouncing()
    {
        var d = _cfg.Director;
        if (!d.Announce) return "";
        _announcer = new Announcer(State, new AnnounceTable(_net, _dev!, d.AnnounceTable, Log, LogError), () => Heartbeat,
            () => Environment.TickCount64, Log, () => _routes!.Routed);
        _announcer.Start();
        var on = _announcer.Table.Announced;
        return $"; announcing in table {d.AnnounceTable}: {(on.Count == 0 ? "nothing yet" : string.Join(", ", on))}";
    }

    /// <summary>[sync]: the UDP socket (a bind failure fails the start) and every engine's ring of records to send.</summary>
    private void OpenSync()
    {
        var s = _cfg.Sync;
        if (!s.Enabled) return;
        _sync = new SyncService(s, State.Engines, State.Commands, UdpSyncTransport.Open(s.Bind, s.Port), State.Sync, null, Log);
        _sync.AttachQueues();
    }

    /// <summary>Starts sync and waits (at most resync_wait) for the peers' tables before anything is announced.</summary>
    private string StartSync()
    {
        if (_sync is null) return "";
        _sync.Start();
        _sync.WaitSynced();
        return $"; sync with {string.Join(", ", _sync.Peers)} on port {_cfg.Sync.Port}: {State.Sync.State}";
    }

    /// <summary>
    /// Graceful stop, first step: removes every announced route (routers move traffic away) while forwarding goes on.
    /// Returns how many VIPs were withdrawn; 0 without announce.
    /// </summary>
    public int Withdraw() => _announcer?.Withdraw() ?? 0;

    /// <summary>Every tunnel destination with the outer source address used toward it, for <see cref="NextHopTable"/>.</summary>
    private IReadOnlyCollection<(IpAddress, IpAddress)> TunnelDestinations() =>
        State.Services.SelectMany(s => s.Destinations).Select(x => (x.Address, x.OuterSource)).ToHashSet();

    private void SampleRates()
    {
        try { State.SampleRates(); }
        catch (Exception e) { LogError($"tunlb director: estimator: {e.Message}"); }
    }

    private void Log(string line) { lock (_log) _log.WriteLine(line); }
    private void LogError(string line) { lock (_err) _err.WriteLine(line); }

    public string Summary()
    {
        var sum = State.Drops();
        var drops = string.Join(" ", Enumerable.Range(1, DropReasons.Count - 1)
            .Where(i => sum[i] != 0).Select(i => $"{DropReasons.Names[i]}={sum[i]}"));
        long conns = Services.Sum(s => s.Connections);
        long replies = _txs.Sum(t => t.Sent[(int)OutputKind.Reply]);
        var perWorker = State.Engines.Length == 1 ? "" :
            " (per worker: " + string.Join(", ", State.Engines.Select(e => $"{e.ForwardedPackets} packets/{e.Connections.Count} entries")) + ")";
        string capture = _capture?.Summary() is { Length: > 0 } c ? "; " + c : "";
        long direct = _txs.Sum(t => t.SentLinkLayer);
        capture += TxRings.Summary(_txs);
        return $"forwarded {State.Sent.Packets} packets ({State.Sent.Bytes} bytes) in tunnels ({direct} straight to the device), {replies} ICMP replies, {conns} connections, " +
               $"{State.ConnectionCount} in table{perWorker}; dropped: {(drops.Length == 0 ? "none" : drops)}{capture}";
    }

    public void Dispose()
    {
        _announcer?.Dispose(); // withdraw before anything stops
        _sync?.Dispose();
        try { _api?.DisposeAsync().AsTask().GetAwaiter().GetResult(); }
        catch (Exception e) { LogError($"tunlb director: api stop: {e.Message}"); }
        _api = null;
        try { _health?.DisposeAsync().AsTask().GetAwaiter().GetResult(); } catch { }
        _health = null;
        _estimator?.Dispose();
        _stop = true;
        foreach (var w in _workers) w.Stop();
        foreach (var t in _threads) if (t.IsAlive) t.Join(2000);
        _pmtu?.Dispose();
        _pmtu6?.Dispose();
        State.Commands.SetAllAttached(false);
        _hops?.Dispose();
        _local?.Dispose();   // steering table (its rules go with _net)
        _capture?.Dispose(); // nft table first: the kernel may forward VIP traffic into the TUN device again
        foreach (var tx in _txs) tx?.Dispose();
        State.VipsChanged = null;
        _routes?.Dispose(); // while the device still exists
        _net.Dispose();     // sysctls and link state
        foreach (var tun in _tuns) tun?.Dispose();
    }
}
