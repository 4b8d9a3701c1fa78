using TunLB.Core.Flows;
using TunLB.Core.Model;
using TunLB.Linux;

namespace TunLB.Director;

/// <summary>
/// Keeps what the host takes for the services in step with the published services and the host's addresses: the
/// afpacket capture (filter and drop, for every VIP) and the steering of VIPs the host holds itself
/// (<see cref="LocalVipSteering"/>, both io backends: with afpacket it carries the director's own health checks).
/// Runs again when the service set changes and after every address change (`ip monitor address`), so a VIP put on `lo`
/// after start is steered within milliseconds. Control plane; failures are logged, never thrown.
/// </summary>
public sealed class LocalVips : IDisposable
{
    private readonly Func<ServiceEndpoints> _endpoints;
    private readonly HostNetwork _net;
    private readonly VipRoutes _routes;
    private readonly LocalVipSteering _steering;
    private readonly AfPacketCapture? _capture;
    private readonly Func<IEnumerable<IpAddress>> _tunnelChecked;
    private readonly Action<string> _log, _logError;
    private readonly HashSet<string> _acceptLocal = new();
    private readonly HashSet<IpAddress> _acceptLocalReals = new(); // reals whose interface was looked up (one `ip route get` each)
    private readonly object _gate = new();
    private IReadOnlyCollection<IpAddress> _local = [];
    private IDisposable? _watch;
    private bool _disposed;

    /// <param name="tunnelChecked">The real servers health-checked through the tunnel.</param>
    public LocalVips(HostNetwork net, string device, VipRoutes routes, AfPacketCapture? capture, Func<ServiceEndpoints> endpoints,
                     Func<IEnumerable<IpAddress>> tunnelChecked, Action<string> log, Action<string> logError)
    {
        _net = net; _routes = routes; _capture = capture; _endpoints = endpoints; _tunnelChecked = tunnelChecked; _log = log; _logError = logError;
        _steering = new LocalVipSteering(net, device, log, logError);
    }

    /// <summary>Applies the current state, then follows address changes.</summary>
    public void Start()
    {
        Update();
        try { _watch = _net.WatchAddresses(Update); }
        catch (Exception e) { _logError($"tunlb director: cannot watch addresses (VIPs put on an interface later are not steered): {e.Message}"); }
    }

    /// <summary>Re-reads the services and the host's addresses and follows them.</summary>
    public void Update()
    {
        lock (_gate)
        {
            if (_disposed) return;
            var all = _endpoints();
            try { _capture?.Update(all); }
            catch (Exception e) { _logError($"tunlb director: cannot update the capture filter for the new service set: {e.Message}"); }
            try
            {
                _local = _routes.LocalVips();
                var steered = all.Where(_local);
                _steering.Update(steered);
                if (steered.Keys.Any(k => k.Vip.IsV4)) AcceptCheckReplies();
            }
            catch (Exception e) { _logError($"tunlb director: cannot steer the service ports of local VIPs: {e.Message}"); }
        }
    }

    /// <summary>
    /// A health check's reply comes from the VIP, now a local address of this host: IPv4 drops such a packet as a martian
    /// source unless accept_local is set on the interface it arrives on (the one toward the real server). Undone with the host network.
    /// </summary>
    private void AcceptCheckReplies()
    {
        foreach (var real in _tunnelChecked())
        {
            try
            {
                if (!real.IsV4 || !_acceptLocalReals.Add(real) || RoutePath.Device(_net, real) is not { } dev || !_acceptLocal.Add(dev)) continue;
                if (_net.ReadSysctl($"net.ipv4.conf.{dev}.accept_local") == "1") continue;
                _net.WriteSysctl($"net.ipv4.conf.{dev}.accept_local", "1");
                _log($"tunlb director: accept_local {dev}=1 (health-check replies come from a local VIP)");
            }
            catch (Exception e) { _logError($"tunlb director: accept_local toward {real}: {e.Message}"); }
        }
    }

    /// <summary>The startup message's part about VIPs held locally ("" when none).</summary>
    public string Describe()
    {
        lock (_gate)
        {
            if (_local.Count == 0) return "";
            var steered = _steering.Steered;
            return $"; local VIP{(_local.Count > 1 ? "s" : "")} {string.Join(", ", _local)}: service ports " +
                   (steered.Count == 0 ? "none" : steered.ToString()) +
                   (_capture is null ? " forwarded into the TUN device" : " taken by the capture ring") +
                   $" (fwmark 0x{LocalVipSteering.Mark:x} before lookup local, table {LocalVipSteering.RouteTable}, nft inet {_steering.Table}); other ports delivered locally";
        }
    }

    public void Dispose()
    {
        lock (_gate) _disposed = true;
        _watch?.Dispose();
        _steering.Dispose();
    }
}
