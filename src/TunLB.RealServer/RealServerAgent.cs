using TunLB.Control.Configuration;
using TunLB.Core.DataPath;
using TunLB.Core.Flows;
using TunLB.Core.Packets;
using TunLB.Linux;

namespace TunLB.RealServer;

/// <summary>
/// The real-server agent: receives tunnelled packets, accepts only packets from the configured directors carrying
/// packets for the configured VIPs, and injects the inner packet into a TUN device that holds the VIPs. Local
/// services bound to a VIP then answer the client directly, with the VIP as source.
/// </summary>
/// <remarks>
/// Receivers, one <see cref="DecapWorker"/> thread each (recvmmsg batches, one TUN write per accepted packet), each with
/// its own <see cref="DecapFilter"/>:
/// <list type="bullet">
/// <item>IPv4 raw socket, protocol 4 (IPv4 in IPv4) — always; its filter is <see cref="Filter"/>;</item>
/// <item>IPv4 raw socket, protocol 41 (IPv6 in IPv4) — when a VIP is IPv6 and a director IPv4;</item>
/// <item>IPv6 raw sockets, protocols 4 and 41 (IPv4 / IPv6 in IPv6) — when a director is IPv6;</item>
/// <item>a UDP socket on the GUE port — when <c>gue = true</c>: works where protocol 4 is filtered and needs no raw socket.</item>
/// </list>
/// The kernel reassembles outer fragments before delivering to any of them; inner fragments are injected as they
/// are and reassembled by the kernel's input path behind the TUN device.
/// </remarks>
public sealed class RealServerAgent : IDisposable
{
    // Socket receive buffers: the kernel's default (~212 KB, a few hundred small packets) overflows whenever the agent
    // is descheduled briefly at tens of thousands of packets/s; 4 MiB holds a few thousand.
    private const int ReceiveBufferBytes = 4 << 20;

    private readonly RealServerConfig _cfg;
    private readonly TextWriter _log;
    private readonly HostNetwork _net = new();
    private readonly List<IDisposable> _sockets = new();
    private readonly List<Thread> _workers = new();
    private readonly List<DecapWorker> _decap = new();
    private readonly List<(string Name, DecapFilter Filter)> _filters = new();
    private TunDevice? _tun;
    private bool _mssInstalled;

    /// <summary>The filter of the IPv4 protocol-4 receiver (the classic IPIP path).</summary>
    public DecapFilter Filter { get; }
    /// <summary>Inner packets injected into the TUN device, all receivers.</summary>
    public long Injected => _decap.Sum(w => Volatile.Read(ref w.Injected));
    /// <summary>Inner packets the TUN device refused, all receivers.</summary>
    public long InjectErrors => _decap.Sum(w => Volatile.Read(ref w.InjectErrors));

    public RealServerAgent(RealServerConfig cfg, TextWriter log)
    {
        _cfg = cfg; _log = log;
        Filter = NewFilter();
    }

    private DecapFilter NewFilter() => new(_cfg.Directors, _cfg.Vips);

    /// <summary>Every receiver's name and worker (its filter's verdicts and its injection counters).</summary>
    public IReadOnlyList<(string Name, DecapWorker Worker)> Receivers => _filters.Select((f, i) => (f.Name, _decap[i])).ToArray();

    /// <summary>Every receiver's name and filter (for counters).</summary>
    public IReadOnlyList<(string Name, DecapFilter Filter)> Filters => _filters;

    /// <summary>Sets up the host and starts the decapsulation workers. Returns the one-line description of what changed.</summary>
    public string Start()
    {
        try
        {
            RecoverFromCrash();
            bool anyV6Vip = _cfg.Vips.Any(v => !v.IsV4);
            bool anyV4Director = _cfg.Directors.Any(d => d.IsV4);
            bool anyV6Director = _cfg.Directors.Any(d => !d.IsV4);

            (_tun, var dev, var inject) = DecapDevice.Open(_cfg, _net);
            // Without IPv6 VIPs keep the kernel from sending router solicitations and MLD into the device; with them,
            // no duplicate address detection (the VIP is deliberately on many hosts). Set before the link comes up.
            if (anyV6Vip)
            {
                _net.WriteSysctl($"net.ipv6.conf.{dev}.disable_ipv6", "0");
                _net.WriteSysctl($"net.ipv6.conf.{dev}.accept_dad", "0");
            }
            else _net.WriteSysctl($"net.ipv6.conf.{dev}.disable_ipv6", "1");
            _net.SetLinkUp(dev, 65515);
            foreach (var vip in _cfg.Vips)
            {
                if (vip.IsV4) _net.AddAddress(dev, vip, 32);
                else _net.RunIp("addr", "add", $"{vip}/128", "dev", dev, "nodad"); // removed with the device
            }
            // Decapsulated packets arrive on the TUN device while the client is reached via the uplink, so strict
            // reverse-path filtering would drop them. The effective value is max(all, dev): use off when "all" is
            // off, loose otherwise.
            var all = _net.ReadSysctl("net.ipv4.conf.all.rp_filter").Trim();
            var rp = all == "0" ? "0" : "2";
            _net.WriteSysctl($"net.ipv4.conf.{dev}.rp_filter", rp);

            var receivers = new List<string>();
            // Open every socket before steering any traffic: an unclaimed protocol makes the kernel answer
            // protocol-unreachable.
            StartRaw4(IpProtocol.IpIp, Filter); receivers.Add("ipip");
            if (anyV6Vip && anyV4Director) { StartRaw4(IpProtocol.Ipv6, NewFilter()); receivers.Add("6in4"); }
            if (anyV6Director)
            {
                StartRaw6(IpProtocol.IpIp); receivers.Add("4in6");
                if (anyV6Vip) { StartRaw6(IpProtocol.Ipv6); receivers.Add("6in6"); }
            }
            if (_cfg.Gue) { StartGue((ushort)_cfg.GuePort); receivers.Add($"gue udp/{_cfg.GuePort}"); }
            // After the raw sockets: what the XDP program leaves (or everything, if it cannot attach) has a receiver.
            string xdp = "";
            if (_cfg.Decap == DecapMode.Xdp)
            {
                _xdp = XdpDecapSetup.Start(_cfg, _net, dev, out var xdpLine);
                xdp = "; " + xdpLine;
            }

            string mss = "";
            if (MssClampRules.Render(_cfg.Vips, _cfg.MssClamp) is { } rules)
            {
                Nftables.Run(rules);
                _mssInstalled = true;
                // Removed in Dispose; journalled so a start after a crash removes it too.
                _net.Remember($"nft table inet {MssClampRules.Table}", () => { }, ["nft", .. MssClampRules.RemoveCommand.Split(' ')]);
                mss = $"; nft table inet {MssClampRules.Table} clamps MSS to " +
                      (_cfg.MssClamp == RealServerConfig.MssClampAuto ? "the route MTU" : _cfg.MssClamp.ToString());
            }

            _agentCheck = AgentCheckServer.StartIfEnabled(_cfg);
            _egress = EgressSchedule.StartIfEnabled(_cfg, _log);
            _metrics = AgentMetricsServer.StartIfEnabled(_cfg, () => AgentMetrics.Render(Receivers, XdpDecapsulated));
            return (_metrics is null ? "" : _metrics.Describe() + "; ") + (_agentCheck is null ? "" : _agentCheck.Describe() + "; ") + (_egress is null ? "" : _egress.Describe() + "; ") + $"decap device {dev} up holding {string.Join(", ", _cfg.Vips.Select(v => v + (v.IsV4 ? "/32" : "/128")))}; " +
                   $"rp_filter {dev}={rp}; {inject}; receiving {string.Join(", ", receivers)} only from {string.Join(", ", _cfg.Directors)}{xdp}{mss}";
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    private void StartRaw4(byte protocol, DecapFilter filter)
    {
        var rx = RawIpSocket.OpenReceiver(protocol, receiveBufferBytes: ReceiveBufferBytes);
        _sockets.Add(rx);
        StartWorker($"raw4/{protocol}", $"tunlb-decap4-{protocol}", new DecapWorker(rx, filter, DecapInput.Ipv4Packet, protocol, new TunInjector(_tun!)));
    }

    private void StartRaw6(byte protocol)
    {
        var rx = RawIp6Socket.OpenReceiver(protocol, ReceiveBufferBytes);
        _sockets.Add(rx);
        StartWorker($"raw6/{protocol}", $"tunlb-decap6-{protocol}", new DecapWorker(rx, NewFilter(), DecapInput.Ipv6Payload, protocol, new TunInjector(_tun!)));
    }

    private void StartGue(ushort port)
    {
        var rx = UdpSocket.Bind(port, receiveBufferBytes: ReceiveBufferBytes);
        _sockets.Add(rx);
        StartWorker($"gue/{port}", "tunlb-decap-gue", new DecapWorker(rx, NewFilter(), DecapInput.Gue, 0, new TunInjector(_tun!)));
    }

    private void StartWorker(string name, string threadName, DecapWorker worker)
    {
        _decap.Add(worker);
        _filters.Add((name, worker.Filter));
        var t = new Thread(() => worker.Run()) { IsBackground = true, Name = threadName };
        _workers.Add(t);
        t.Start();
    }

    /// <summary>One packet per write(2); the workers share the descriptor (each write is a whole packet, so they need no lock).</summary>
    private sealed class TunInjector(TunDevice tun) : IPacketInjector
    {
        public bool Inject(ReadOnlySpan<byte> packet) => tun.Send(packet);
    }

    public string Summary()
    {
        long accepted = _filters.Sum(f => f.Filter.Accepted);
        var drops = string.Join(" ", Enumerable.Range(1, DropReasons.Count - 1)
            .Select(i => (i, n: _filters.Sum(f => f.Filter.Drops[i]))).Where(x => x.n != 0)
            .Select(x => $"{DropReasons.Names[x.i]}={x.n}"));
        long batches = _decap.Sum(w => Volatile.Read(ref w.Batches));
        string xdp = XdpDecapsulated is { } x ? $"; decapsulated by XDP: {x.Packets} packets ({x.Bytes} bytes)" : "";
        return $"decapsulated {accepted} packets (received in {batches} recvmmsg batches), injected {Injected}, inject errors {InjectErrors}; dropped: {(drops.Length == 0 ? "none" : drops)}{xdp}";
    }

    /// <summary>Packets and inner bytes the XDP program decapsulated (null without <c>decap = "xdp"</c> in effect).</summary>
    public (long Packets, long Bytes)? XdpDecapsulated
    {
        get
        {
            try { return _xdp?.Decapsulator.Counters(); }
            catch (Exception) { return null; } // disposed while asked
        }
    }

    private XdpDecapSetup? _xdp;

    private AgentCheckServer? _agentCheck;
    private EgressSchedule? _egress;
    private AgentMetricsServer? _metrics;

    // What an agent that died (kill -9) left on this host is undone first and listed (HostJournal).
    private void RecoverFromCrash()
    {
        _net.Journal = HostJournal.For("realserver-" + _cfg.TunName);
        foreach (var line in _net.Journal.Recover()) _log.WriteLine("tunlb realserver: " + line);
        foreach (var line in HostJournal.SweepOrphans()) _log.WriteLine("tunlb realserver: " + line);
    }

    public void Dispose()
    {
        _metrics?.Dispose();
        _egress?.Dispose();
        _agentCheck?.Dispose();
        _xdp?.Dispose();
        _xdp = null;
        foreach (var w in _decap) w.Stop();
        foreach (var w in _workers) w.Join(2000);
        foreach (var s in _sockets) s.Dispose();
        if (_mssInstalled)
        {
            try { Nftables.Command(MssClampRules.RemoveCommand.Split(' ')); }
            catch (Exception e) { _log.WriteLine($"removing nft table {MssClampRules.Table}: {e.Message}"); }
            _mssInstalled = false;
        }
        _net.Dispose();
        _tun?.Dispose();
    }
}
