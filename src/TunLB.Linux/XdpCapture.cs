using System.Text;
using TunLB.Linux.Xdp;

namespace TunLB.Linux;

/// <summary>
/// The <c>io = "xdp"</c> capture backend's setup: the XDP program (<see cref="XdpVipRedirector"/>) on every capture
/// interface, steering packets of a configured service to an AF_XDP socket (<see cref="XskSocket"/>) per receive queue,
/// and one <see cref="XdpPort"/> per worker that reads its queues' sockets plus its queue of the TUN device. Queue q of
/// every interface goes to worker q mod workers, so a flow the NIC (or the veth sender) hashes to a queue stays on one
/// worker. What the program leaves to the kernel (ICMP, other ports, interfaces without the program) is forwarded by
/// the kernel through the VIP routes into the TUN device, as with <c>io = "tun"</c>; the director's own health checks to
/// a VIP go there too. No nftables rule is needed: redirected packets never reach the kernel's IP stack.
/// </summary>
/// <remarks>
/// Everything is undone on <see cref="Dispose"/>: sockets closed, programs detached (their BPF links closed); a director
/// that dies leaves nothing attached either, because the kernel closes the links.
/// </remarks>
public sealed class XdpCapture : IDisposable
{
    private readonly object _gate = new();
    private readonly List<(string Device, XdpVipRedirector Redirector, int Queues)> _attached = new();
    private XdpPort[] _ports = [];
    private int _workers;

    private XdpCapture() { }

    /// <summary>One port per worker (a worker without a queue reads only its TUN queue).</summary>
    public IReadOnlyList<IPacketReceiver> Ports => _ports;
    public IReadOnlyList<XdpPort> XdpPorts => _ports;
    /// <summary>The attach mode of the first interface: native or generic.</summary>
    public XdpAttachMode Mode => _attached.Count == 0 ? XdpAttachMode.Generic : _attached[0].Redirector.Mode;
    public IReadOnlyList<string> Interfaces => _attached.Select(a => a.Device).ToArray();

    /// <summary>
    /// Attaches the program to <paramref name="interfaces"/>, opens one socket per receive queue, then steers
    /// <paramref name="services"/>. <paramref name="tunQueues"/>: the TUN queue of each worker (or null). Throws, with
    /// everything it did undone, when an interface does not exist or the kernel refuses the program or a socket.
    /// </summary>
    public static XdpCapture Start(IReadOnlyList<string> interfaces, IReadOnlyCollection<XdpService> services, int workers,
                                   IReadOnlyList<TunDevice>? tunQueues, XdpAttachMode? mode = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(workers, 1);
        if (interfaces.Count == 0) throw new InvalidOperationException("no capture interface (no Ethernet device with a route)");
        var c = new XdpCapture { _workers = workers };
        var sockets = new List<XskSocket>[workers];
        for (int w = 0; w < workers; w++) sockets[w] = new();
        try
        {
            foreach (var dev in interfaces)
            {
                int ifindex = (int)NetworkInterfaces.IndexOf(dev);
                if (ifindex == 0) throw new InvalidOperationException($"capture_interfaces: no interface named \"{dev}\" in this network namespace");
                int queues = Math.Max(1, DeviceQueues.RxQueueCount(dev));
                var r = XdpVipRedirector.Attach(ifindex, queues, mode);
                c._attached.Add((dev, r, queues));
                for (int q = 0; q < queues; q++) sockets[q % workers].Add(XskSocket.Open(ifindex, q, r));
            }
            c._ports = new XdpPort[workers];
            for (int w = 0; w < workers; w++)
            {
                string name = $"xdp worker {w}: " + (sockets[w].Count == 0 ? "no queue" :
                    string.Join(", ", sockets[w].Select(s => $"{c.DeviceOf(s.IfIndex)} queue {s.QueueId}")));
                c._ports[w] = new XdpPort(sockets[w], tunQueues is null ? null : tunQueues[w], name);
            }
            c.UpdateServices(services);
            return c;
        }
        catch
        {
            foreach (var list in sockets) foreach (var s in list) s.Dispose();
            c.Dispose();
            throw;
        }
    }

    private string DeviceOf(int ifindex) => _attached.FirstOrDefault(a => a.Redirector.IfIndex == ifindex).Device ?? ifindex.ToString();

    /// <summary>Makes every interface's program steer exactly <paramref name="services"/>. Control plane; throws on failure.</summary>
    public void UpdateServices(IReadOnlyCollection<XdpService> services)
    {
        lock (_gate)
            foreach (var a in _attached) a.Redirector.SetServices(services);
    }

    /// <summary>One line for the startup message.</summary>
    public string Describe()
    {
        var sb = new StringBuilder("io xdp: ");
        sb.Append(string.Join(", ", _attached.Select(a =>
            $"{a.Redirector.Mode.ToString().ToLowerInvariant()} on {a.Device} ({a.Queues} queue{(a.Queues == 1 ? "" : "s")})")));
        var socks = _ports.SelectMany(p => p.Sockets).ToArray();
        sb.Append($", {socks.Length} AF_XDP socket{(socks.Length == 1 ? "" : "s")} ({(socks.Any(s => s.ZeroCopy) ? "zero-copy" : "copy mode")})");
        int maxQueues = _attached.Max(a => a.Queues);
        if (_workers < maxQueues)
            sb.Append($"; {_workers} worker{(_workers == 1 ? "" : "s")} for {maxQueues} queues: worker w reads queues w, w+{_workers}, ...");
        else if (_workers > maxQueues)
            sb.Append($"; {_workers} workers for {maxQueues} queue{(maxQueues == 1 ? "" : "s")}: workers {maxQueues}..{_workers - 1} read only their TUN queue");
        sb.Append("; steering services only, the rest to a VIP through the kernel into the TUN device");
        return sb.ToString();
    }

    /// <summary>The counters as numbers (/metrics).</summary>
    public CaptureCounters Counters()
    {
        long rx = 0, malformed = 0, truncated = 0, tun = 0, kdrop = 0;
        foreach (var p in _ports)
        {
            tun += p.TunPackets;
            foreach (var s in p.Sockets)
            {
                rx += s.RxPackets; malformed += s.DroppedMalformed; truncated += s.DroppedTruncated;
                var st = s.ReadKernelStatistics();
                kdrop += st.RxDropped + st.RxRingFull;
            }
        }
        return new CaptureCounters("xdp", rx, tun, truncated, malformed, 0, kdrop, 0, 0);
    }

    /// <summary>Counters for the exit summary.</summary>
    public string Summary()
    {
        long rx = 0, malformed = 0, truncated = 0, csums = 0, tun = 0, kdrop = 0, ringFull = 0, fillEmpty = 0;
        foreach (var p in _ports)
        {
            csums += p.ChecksumsCompleted; tun += p.TunPackets;
            foreach (var s in p.Sockets)
            {
                rx += s.RxPackets; malformed += s.DroppedMalformed; truncated += s.DroppedTruncated;
                var st = s.ReadKernelStatistics();
                kdrop += st.RxDropped; ringFull += st.RxRingFull; fillEmpty += st.RxFillRingEmpty;
            }
        }
        return $"xdp: {rx} packets from AF_XDP sockets, {tun} from the TUN device, {csums} checksums completed; drops: " +
               $"truncated={truncated} malformed={malformed} kernel rx_dropped={kdrop} rx_ring_full={ringFull} fill_ring_empty={fillEmpty}";
    }

    public void Dispose()
    {
        lock (_gate)
        {
            foreach (var p in _ports) p.Dispose();
            foreach (var a in _attached) a.Redirector.Dispose();
            _attached.Clear();
        }
    }
}
