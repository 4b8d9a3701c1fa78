using TunLB.Control.Configuration;
using TunLB.Core.DataPath;
using TunLB.Core.Flows;
using TunLB.Core.Model;
using TunLB.Core.Packets;
using TunLB.Director.Api;
using TunLB.Director.Management;
using TunLB.Linux;

namespace TunLB.Director;

/// <summary>
/// The director process: captures VIP traffic through a TUN device (each VIP/32 routed into it), runs the
/// core engine on every packet, and sends the IPIP result through a raw socket; serves the management API
/// and runs the rate estimator. Everything it sets up on the host is undone on Dispose.
/// </summary>
/// <remarks>
/// The management logic lives in <see cref="DirectorState"/> (no I/O). This class adds the worker threads,
/// which drain the state's command queues between packets, and keeps one route per VIP in step with the
/// service set as the API or a reload changes it.
/// <para>With <c>workers = N</c> above 1 the TUN device is opened N times with IFF_MULTI_QUEUE: one queue (file
/// descriptor) per worker. The kernel picks a packet's queue from its flow hash, so a TCP or UDP flow stays on
/// one worker. Each worker owns its queue, its engine (connection and fragment tables), its output buffers and
/// its own raw sockets (<see cref="OutputSender"/>): nothing is shared on the per-packet path.</para>
/// </remarks>
public sealed class DirectorRuntime : IDisposable
{
    // One packet buffer: TUN MTU is at most 65515, and the output adds one outer header.
    private const int BufferSize = 65536 + 64;
    // Connection expiry work per idle tick or per 1024 packets (slots examined).
    private const int ExpireBudget = 4096;

    private readonly DirectorConfig _cfg;
    private readonly TextWriter _log;
    private readonly TextWriter _err;
    private readonly HostNetwork _net = new();
    private readonly HashSet<IpAddress> _routes = new();
    private readonly object _routeGate = new();
    private string? _dev;
    private TunDevice[] _tuns = [];
    private OutputSender[] _txs = [];
    private NextHopTable? _hops;
    private AfPacketCapture? _capture;   // io = "afpacket"
    private IPacketPort[] _ports = [];  // what each worker reads: its TUN queue or its capture ring
    private RawIpSocket? _icmp;
    private Thread? _pmtu;
    private RawIp6Socket? _icmp6;
    private Thread? _pmtu6;
    private Thread[] _workers = [];
    private long[] _heartbeats = [];
    private Timer? _estimator;
    private ApiServer? _api;
    private Health.HealthMonitor? _health;
    private volatile bool _stop;

    public DirectorRuntime(DirectorConfig cfg, TextWriter log, TextWriter? err = null)
    {
        _cfg = cfg; _log = log; _err = err ?? log;
        State = new DirectorState(cfg, new DirectorStateOptions
        {
            OuterSource = _net.SourceAddressToward,
            PathMtu = a => RoutePath.Mtu(_net, a),
            Log = line => { lock (_log) _log.WriteLine(line); },
            LogError = line => { lock (_err) _err.WriteLine(line); },
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
            long min = long.MaxValue;
            long[] beats = _heartbeats;
            for (int w = 0; w * 8 < beats.Length; w++) min = Math.Min(min, Volatile.Read(ref beats[w * 8]));
            return min == long.MaxValue ? 0 : min;
        }
    }

    /// <summary>True while every worker thread runs.</summary>
    public bool WorkerAlive => _workers.Length > 0 && _workers.All(t => t.IsAlive);

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
            int workers = State.Engines.Length;
            // One queue per worker; a single worker keeps the plain (single-queue) device. With io = "afpacket" the workers
            // read capture rings instead and the TUN device only swallows the director's own health checks: one queue.
            int queues = d.Io == IoBackend.AfPacket ? 1 : workers;
            _tuns = new TunDevice[queues];
            _tuns[0] = TunDevice.Open(d.TunName, out var dev, multiQueue: queues > 1);
            _dev = dev;
            for (int w = 1; w < queues; w++) _tuns[w] = TunDevice.Open(dev, multiQueue: true);
            bool anyV6 = _cfg.Services.Any(s => !s.Vip.IsV4 || s.Reals.Any(r => !r.Address.IsV4));
            // Without IPv6 keep the kernel from sending router solicitations and MLD into the device. Set before link up.
            if (anyV6) EnableIpv6();
            else _net.WriteSysctl($"net.ipv6.conf.{dev}.disable_ipv6", "1");
            _net.SetLinkUp(dev, d.TunMtu);
            // The device's queue is the director's only buffer with io = "tun": 500 packets (the default) are cut by a burst
            // of a few hundred microseconds at line rate while the worker is not scheduled. The device is ours (deleted on exit).
            if (d.Io == IoBackend.Tun) _net.RunIp("link", "set", "dev", dev, "txqueuelen", TunQueueLength.ToString(System.Globalization.CultureInfo.InvariantCulture));
            _net.WriteSysctl("net.ipv4.ip_forward", "1");
            SyncRoutes(State.Vips, throwOnError: true);
            string io = StartCapture(workers);
            State.VipsChanged = vips => { SyncRoutes(vips, throwOnError: false); UpdateCapture(vips); };
            // One raw socket per family and worker: IPv4 always (replies and IPIP), IPv6 when a VIP or a real server is
            // IPv6. IPv6 too when the host has it, so IPv6 real servers added later through the API can be reached.
            _txs = new OutputSender[workers];
            for (int w = 0; w < workers; w++)
            {
                try { _txs[w] = OutputSender.Open(ipv4: true, ipv6: true); }
                catch when (!anyV6) { _txs[w] = OutputSender.Open(ipv4: true, ipv6: false); }
            }
            string tx = "raw IP sockets";
            if (d.Tx == TxMode.Auto)
            {
                // Tunnel packets to a resolved next hop go straight to the device (AF_PACKET), skipping the IP output path.
                _hops = new NextHopTable(TunnelDestinations, 1000, line => { lock (_err) _err.WriteLine(line); });
                foreach (var t in _txs) t.UseLinkLayer(_hops);
                tx = "AF_PACKET to resolved next hops, raw IP sockets otherwise";
            }
            _icmp = RawIpSocket.OpenReceiver(IpProtocol.Icmp);
            _pmtu = new Thread(LearnPathMtu) { IsBackground = true, Name = "tunlb-pmtu" };
            _pmtu.Start(false);
            if (anyV6)
            {
                _icmp6 = RawIp6Socket.OpenReceiver(IpProtocol.Icmpv6);
                _pmtu6 = new Thread(LearnPathMtu) { IsBackground = true, Name = "tunlb-pmtu6" };
                _pmtu6.Start(true);
            }
            _heartbeats = new long[workers * 8]; // 8 longs apart: one cache line per worker
            _workers = new Thread[workers];
            for (int w = 0; w < workers; w++)
            {
                _workers[w] = new Thread(Run) { IsBackground = true, Name = workers == 1 ? "tunlb-worker" : $"tunlb-worker{w}" };
                State.Commands.SetAttached(w, true);
            }
            for (int w = 0; w < workers; w++) _workers[w].Start(w);
            _estimator = new Timer(_ => SampleRates(), null, RateEstimator.Interval, RateEstimator.Interval);
            var health = StartHealth();
            _api = ApiServer.StartAsync(State, d).GetAwaiter().GetResult();
            var services = State.Services;
            int reals = services.Sum(s => s.Destinations.Length);
            string routes;
            lock (_routeGate) routes = string.Join(", ", _routes.Select(v => v + (v.IsV4 ? "/32" : "/128")));
            return $"{io}; capture device {dev} (mtu {d.TunMtu}{(workers > 1 ? $", {workers} queues" : "")}) routes {routes}; ip_forward=1; " +
                   (workers > 1 ? $"{workers} workers; " : "") +
                   $"{services.Count} service(s), {reals} real server(s); tx {tx}; api {_api.BaseAddress}" +
                   (d.ApiToken.Length > 0 ? " (bearer token required)" : "") + health;
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>
    /// Chooses what the worker reads: the TUN device (io = "tun"), or an AF_PACKET ring with its nftables drop
    /// (io = "afpacket", see <see cref="AfPacketCapture"/>). Returns the startup message's io part.
    /// </summary>
    private string StartCapture(int workers)
    {
        var d = _cfg.Director;
        if (d.Io != IoBackend.AfPacket)
        {
            _ports = [.. _tuns];
            return "io tun: the kernel forwards VIP traffic into the TUN device";
        }
        _capture = AfPacketCapture.Start(_dev!, _tuns[0], d.CaptureInterfaces, State.Vips, line => { lock (_err) _err.WriteLine(line); }, workers);
        _ports = [.. _capture.Ports];
        return _capture.Describe();
    }

    private void UpdateCapture(IReadOnlyCollection<IpAddress> vips)
    {
        if (_capture is null || _stop) return;
        try { _capture.UpdateVips(vips); }
        catch (Exception e) { lock (_err) _err.WriteLine($"tunlb director: cannot update the capture filter for the new VIP set: {e.Message}"); }
    }

    /// <summary>
    /// Starts health checking. Checks through the tunnel use source ports of check_port_range (reserved from the
    /// kernel's ephemeral ports with ip_local_reserved_ports), and their replies come back from the VIP, which
    /// routes into the capture device: strict reverse-path filtering on the interface toward a real server
    /// would drop them, so such interfaces get loose mode (2). Everything is undone on exit.
    /// </summary>
    private string StartHealth()
    {
        var d = _cfg.Director;
        var checkedReals = State.CheckedReals();
        _health = new Health.HealthMonitor(State);
        var notes = new List<string>();
        try
        {
            var reserved = _net.ReadSysctl("net.ipv4.ip_local_reserved_ports").Trim();
            var range = d.CheckPortRange;
            if (!reserved.Split(',').Contains(range))
            {
                _net.WriteSysctl("net.ipv4.ip_local_reserved_ports", reserved.Length == 0 ? range : reserved + "," + range);
                notes.Add($"ip_local_reserved_ports += {range}");
            }
        }
        catch (Exception e) { lock (_err) _err.WriteLine($"tunlb director: health: cannot reserve {d.CheckPortRange}: {e.Message}"); }
        var devs = new HashSet<string>();
        foreach (var addr in checkedReals.Where(x => x.Tunnel).Select(x => x.Address).Distinct())
        {
            try
            {
                var route = _net.RunIp("route", "get", addr.ToString());
                var f = route.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                int i = Array.IndexOf(f, "dev");
                if (i >= 0 && i + 1 < f.Length) devs.Add(f[i + 1]);
            }
            catch (Exception e) { lock (_err) _err.WriteLine($"tunlb director: health: no route to {addr}: {e.Message}"); }
        }
        foreach (var dev in devs.Where(x => x != _dev))
        {
            try
            {
                var all = _net.ReadSysctl("net.ipv4.conf.all.rp_filter").Trim();
                var cur = _net.ReadSysctl($"net.ipv4.conf.{dev}.rp_filter").Trim();
                if (all == "1" || cur == "1")
                {
                    _net.WriteSysctl($"net.ipv4.conf.{dev}.rp_filter", "2");
                    notes.Add($"rp_filter {dev}=2 (check replies come from the VIP)");
                }
            }
            catch (Exception e) { lock (_err) _err.WriteLine($"tunlb director: health: rp_filter on {dev}: {e.Message}"); }
        }
        _health.Start();
        int n = checkedReals.Count;
        if (n == 0) return "; health checks: none configured";
        return $"; health checks: {n} real(s), {checkedReals.Count(x => x.Tunnel)} through the tunnel from source ports {d.CheckPortRange}" +
               (notes.Count > 0 ? "; " + string.Join("; ", notes) : "");
    }

    /// <summary>Every tunnel destination with the outer source address used toward it, for <see cref="NextHopTable"/>.</summary>
    private IReadOnlyCollection<(IpAddress, IpAddress)> TunnelDestinations() =>
        State.Services.SelectMany(s => s.Destinations).Select(x => (x.Address, x.OuterSource)).ToHashSet();

    private void SampleRates()
    {
        try { State.SampleRates(); }
        catch (Exception e) { lock (_err) _err.WriteLine($"tunlb director: estimator: {e.Message}"); }
    }

    /// <summary>Adds a route into the capture device for each new VIP and removes the routes of VIPs no service uses.</summary>
    private void SyncRoutes(IReadOnlyCollection<IpAddress> vips, bool throwOnError)
    {
        lock (_routeGate)
        {
            if (_dev is null || _stop) return;
            foreach (var vip in vips.Where(v => !_routes.Contains(v)).ToList())
            {
                try
                {
                    var owner = LocalOwner(vip);
                    if (owner != null)
                        throw new InvalidOperationException(
                            $"VIP {vip} is a local address on {owner}, so the kernel would deliver its traffic locally instead of " +
                            $"routing it into {_dev}. Unlike IPVS, TunLB must not hold the VIP: remove it (ip addr del {Cidr(vip)} dev {owner}); " +
                            "the director answers ARP for a VIP inside a connected subnet by itself (proxy ARP).");
                    if (!vip.IsV4) EnableIpv6(); // an IPv6 VIP may arrive later through the API or a reload
                    _net.RunIp("route", "replace", Cidr(vip), "dev", _dev);
                    _routes.Add(vip);
                    AnnounceOnLink(vip);
                    if (!throwOnError) _log.WriteLine($"tunlb director: route {Cidr(vip)} dev {_dev} added");
                }
                catch (Exception e) when (!throwOnError)
                {
                    lock (_err) _err.WriteLine($"tunlb director: cannot route {Cidr(vip)} into {_dev}: {e.Message}");
                }
            }
            foreach (var vip in _routes.Where(v => !vips.Contains(v)).ToList())
            {
                RemoveRoute(vip);
                _log.WriteLine($"tunlb director: route {Cidr(vip)} dev {_dev} removed");
            }
        }
    }

    private bool _ipv6Enabled;

    /// <summary>IPv6 on the capture device and IPv6 forwarding, once, when the first IPv6 VIP appears (undone on exit).</summary>
    private void EnableIpv6()
    {
        if (_ipv6Enabled) return;
        _net.WriteSysctl($"net.ipv6.conf.{_dev}.disable_ipv6", "0");
        _net.WriteSysctl("net.ipv6.conf.all.forwarding", "1");
        _ipv6Enabled = true;
    }

    /// <summary>The interface that holds <paramref name="vip"/> as a local address, or null.</summary>
    private string? LocalOwner(IpAddress vip)
    {
        foreach (var (dev, addr, _) in Addresses())
            if (addr == vip && dev != _dev) return dev;
        return null;
    }

    /// <summary>(device, address, prefix) for every IPv4/IPv6 address in this namespace.</summary>
    private List<(string Dev, IpAddress Addr, int Prefix)> Addresses()
    {
        var list = new List<(string, IpAddress, int)>();
        foreach (var line in _net.RunIp("-o", "addr", "show").Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            // "2: eth0    inet 203.0.113.2/29 brd 203.0.113.7 scope global eth0"
            var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            int i = Array.FindIndex(f, x => x is "inet" or "inet6");
            if (i < 2 || i + 1 >= f.Length) continue;
            var cidr = f[i + 1].Split('/');
            if (cidr.Length != 2 || !System.Net.IPAddress.TryParse(cidr[0], out var ip) || !int.TryParse(cidr[1], out var prefix)) continue;
            list.Add((f[1].TrimEnd(':').Split('@')[0], IpAddress.FromIPAddress(ip), prefix));
        }
        return list;
    }

    /// <summary>
    /// A VIP inside a connected subnet is reached by ARP (or ND): the upstream router asks who has it. Since the
    /// director must not hold the VIP, answer for it with a proxy neighbour entry on each such interface.
    /// A routed VIP (the usual multi-director setup, e.g. ECMP or a static route to the director) needs nothing.
    /// </summary>
    private void AnnounceOnLink(IpAddress vip)
    {
        foreach (var (dev, addr, prefix) in Addresses())
        {
            if (dev == _dev || dev == "lo" || addr.IsV4 != vip.IsV4 || prefix == (vip.IsV4 ? 32 : 128)) continue;
            if (addr.Mask(vip.IsV4 ? prefix : prefix) != vip.Mask(prefix)) continue;
            try
            {
                _net.RunIp("neigh", "replace", "proxy", vip.ToString(), "dev", dev);
                if (!_proxies.TryGetValue(vip, out var devs)) _proxies[vip] = devs = new List<string>();
                if (!devs.Contains(dev)) devs.Add(dev);
                _log.WriteLine($"tunlb director: answering ARP/ND for {vip} on {dev} (on-link VIP)");
            }
            catch (Exception e) { lock (_err) _err.WriteLine($"tunlb director: cannot add proxy neighbour for {vip} on {dev}: {e.Message}"); }
        }
    }

    private readonly Dictionary<IpAddress, List<string>> _proxies = new();

    private void RemoveRoute(IpAddress vip)
    {
        if (_proxies.Remove(vip, out var proxyDevs))
            foreach (var dev in proxyDevs)
                try { _net.RunIp("neigh", "del", "proxy", vip.ToString(), "dev", dev); } catch { /* the device may be gone */ }
        try { _net.RunIp("route", "del", Cidr(vip), "dev", _dev!); }
        catch (Exception e) { lock (_err) _err.WriteLine($"tunlb director: cannot remove route {Cidr(vip)}: {e.Message}"); }
        _routes.Remove(vip);
    }

    private static string Cidr(IpAddress a) => a + (a.IsV4 ? "/32" : "/128");

    // Batching: after a blocking wait for the first packet, drain up to this many queued packets without waiting,
    // then send all their output with sendmmsg(2): two system calls per packet become about one.
    private const int MaxInputsPerBatch = 32;
    private const int OutputBufferSize = 1 << 20;
    // Room one more input needs: a 64 KiB packet's tunnel fragments plus an ICMP reply; and descriptor slots.
    private const int MinOutputRoom = 160 * 1024;
    private const int MinPacketSlots = OutputPacket.DefaultMaxPackets + 2;

    private void Run(object? index)
    {
        int w = (int)index!;
        var inBuf = GC.AllocateUninitializedArray<byte>(BufferSize, pinned: true);
        var outBuf = GC.AllocateUninitializedArray<byte>(OutputBufferSize, pinned: true);
        var meta = new OutputPacket[MaxInputsPerBatch * 4 + MinPacketSlots];
        var port = _ports[w]; var tx = _txs[w]; var state = State; var engine = state.Engines[w]; var egress = state.Egress;
        long lastExpire = Environment.TickCount64;
        try
        {
            while (!_stop)
            {
                int n = port.Receive(inBuf, 100);
                long now = Environment.TickCount64;
                int used = 0, total = 0, inputs = 0;
                while (n > 0)
                {
                    // ICMP errors quoting an egress-check probe are recorded (for `tunlb egress-check`); everything
                    // else goes through the engine, which counts its verdict and writes what to send: the tunnelled
                    // packet (or its outer fragments) and/or an ICMP reply to the client.
                    if (!(inBuf[9] == IpProtocol.Icmp && (inBuf[0] >> 4) == 4 && egress.TryRecord(inBuf.AsSpan(0, n), now)))
                    {
                        engine.Process(inBuf.AsSpan(0, n), outBuf.AsSpan(used), meta.AsSpan(total), now, out int c);
                        int end = used;
                        for (int i = total; i < total + c; i++)
                        {
                            meta[i].Offset += used;
                            end = Math.Max(end, meta[i].Offset + meta[i].Length);
                        }
                        used = end;
                        total += c;
                    }
                    if (++inputs >= MaxInputsPerBatch || OutputBufferSize - used < MinOutputRoom || meta.Length - total < MinPacketSlots)
                        break;
                    n = port.Receive(inBuf, 0);
                }
                if (total > 0)
                {
                    int failed = tx.SendMany(outBuf.AsSpan(0, used), meta.AsSpan(0, total));
                    if (failed > 0) engine.Drops[(int)DropReason.SendError] += failed;
                    state.Sent.Report(w, tx.Sent[(int)OutputKind.Tunnel], tx.SentBytes);
                }
                if (n < 0) break;
                // Control work (connection listing, zeroing, timeouts): one volatile read when there is none.
                if (state.Commands.HasPending(w)) state.Commands.RunPending(w);
                if (now - lastExpire >= 100)
                {
                    engine.Expire(now, ExpireBudget);
                    lastExpire = now;
                    Interlocked.Increment(ref _heartbeats[w * 8]);
                }
            }
        }
        catch (Exception e)
        {
            lock (_err) _err.WriteLine($"tunlb director: worker{(_workers.Length > 1 ? " " + w : "")} stopped: {e}");
        }
        finally
        {
            state.Commands.SetAttached(w, false);
        }
    }

    /// <summary>
    /// Routers beyond the director's first hop report a smaller path MTU toward a real server with ICMP
    /// frag-needed about our tunnel packets. The kernel does not apply it to raw sends, so lower that real
    /// server's MTU here; the engine then sends clients frag-needed with the right size.
    /// </summary>
    private void LearnPathMtu(object? v6)
    {
        bool ipv6 = v6 is true;
        var buf = new byte[2048];
        IPacketPort icmp = ipv6 ? _icmp6! : _icmp!;
        var learned = new LearnedPathMtus(_cfg.Director.PmtuExpires * 1000L);
        long lastExpire = Environment.TickCount64;
        while (!_stop)
        {
            int n = icmp.Receive(buf, 200);
            if (n < 0) break;
            long now = Environment.TickCount64;
            if (now - lastExpire >= 1000)
            {
                lastExpire = now;
                learned.Expire(now, (d, mtu, back) =>
                {
                    lock (_log) _log.WriteLine($"tunlb director: path MTU {mtu} toward {d.Address} expired after {_cfg.Director.PmtuExpires} s; back to {(back == 0 ? "unknown" : back)}");
                });
            }
            if (n == 0) continue;
            IpAddress src, rs; int mtu;
            bool ok = ipv6
                ? TunnelPmtu.TryParsePacketTooBig(buf.AsSpan(0, n), out src, out rs, out mtu)
                : TunnelPmtu.TryParseFragNeeded(buf.AsSpan(0, n), out src, out rs, out mtu);
            if (!ok) continue;
            foreach (var svc in State.Services)
                foreach (var d in svc.Destinations)
                    // Believe only messages about packets we sent: the quoted source is our address toward that server.
                    if (d.Address == rs && d.OuterSource == src && learned.Learn(d, mtu, now) is int old)
                    {
                        lock (_log) _log.WriteLine($"tunlb director: path MTU toward {rs} is {mtu} (was {(old == 0 ? "unknown" : old)}), learned from ICMP{(ipv6 ? "v6 Packet Too Big" : " frag-needed")}");
                    }
        }
    }

    public string Summary()
    {
        var sum = State.Drops();
        var drops = string.Join(" ", Enumerable.Range(1, DropReasons.Count - 1)
            .Where(i => sum[i] != 0).Select(i => $"{DropReasons.Names[i]}={sum[i]}"));
        long conns = Services.Sum(s => s.Connections);
        long replies = _txs.Sum(t => t.Sent[(int)OutputKind.Reply]);
        var perWorker = State.Engines.Length == 1 ? "" :
            " (per worker: " + string.Join(", ", State.Engines.Select(e => $"{e.ForwardedPackets} packets/{e.Connections.Count} entries")) + ")";
        string capture = _capture is null ? "" : "; " + _capture.Summary();
        long direct = _txs.Sum(t => t.SentLinkLayer);
        return $"forwarded {State.Sent.Packets} packets ({State.Sent.Bytes} bytes) in tunnels ({direct} straight to the device), {replies} ICMP replies, {conns} connections, " +
               $"{State.ConnectionCount} in table{perWorker}; dropped: {(drops.Length == 0 ? "none" : drops)}{capture}";
    }

    public void Dispose()
    {
        try { _api?.DisposeAsync().AsTask().GetAwaiter().GetResult(); }
        catch (Exception e) { lock (_err) _err.WriteLine($"tunlb director: api stop: {e.Message}"); }
        _api = null;
        try { _health?.DisposeAsync().AsTask().GetAwaiter().GetResult(); } catch { }
        _health = null;
        _estimator?.Dispose();
        _stop = true;
        foreach (var t in _workers) if (t.IsAlive) t.Join(2000);
        _icmp?.Dispose();
        _icmp6?.Dispose();
        _pmtu?.Join(1000);
        _pmtu6?.Join(1000);
        State.Commands.SetAllAttached(false);
        _hops?.Dispose();
        _capture?.Dispose(); // nft table first: the kernel may forward VIP traffic into the TUN device again
        foreach (var tx in _txs) tx?.Dispose();
        lock (_routeGate)
        {
            State.VipsChanged = null;
            foreach (var vip in _routes.ToList()) RemoveRoute(vip); // while the device still exists
        }
        _net.Dispose();   // sysctls and link state
        foreach (var tun in _tuns) tun?.Dispose();
    }
}
