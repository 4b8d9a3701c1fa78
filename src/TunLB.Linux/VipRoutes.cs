using TunLB.Core.Flows;

namespace TunLB.Linux;

/// <summary>
/// Steers VIP traffic into the director's capture device: one host route per VIP (VIP/32 or /128 dev device), kept in
/// step with the VIP set, and a proxy ARP/ND entry for a VIP inside a subnet connected to another interface when the
/// director does not hold the VIP itself. A VIP the host holds (on `lo` or the uplink, as IPVS wants it) is routed too,
/// but the kernel's `local` table wins for it: <see cref="LocalVipSteering"/> takes its service ports. Every change goes through <see cref="HostNetwork"/>, so what
/// <see cref="Dispose"/> does not remove is still undone with it. Control plane; thread-safe (the API and reloads
/// change the VIP set from other threads).
/// </summary>
public sealed class VipRoutes : IDisposable
{
    private readonly HostNetwork _net;
    private readonly string _device;
    private readonly Action<string> _log;
    private readonly Action<string> _logError;
    private readonly object _gate = new();
    private readonly HashSet<IpAddress> _routes = new();
    private readonly Dictionary<IpAddress, List<string>> _proxies = new();
    private bool _ipv6Enabled;
    private bool _disposed;

    public VipRoutes(HostNetwork net, string device, Action<string> log, Action<string> logError)
    {
        _net = net; _device = device; _log = log; _logError = logError;
    }

    /// <summary>The VIPs routed into the device now.</summary>
    public IReadOnlyCollection<IpAddress> Routed { get { lock (_gate) return _routes.ToArray(); } }

    /// <summary>IPv6 on the capture device and IPv6 forwarding, once, when the first IPv6 VIP appears (undone with the host network).</summary>
    public void EnableIpv6()
    {
        lock (_gate)
        {
            if (_ipv6Enabled) return;
            _net.WriteSysctl($"net.ipv6.conf.{_device}.disable_ipv6", "0");
            _net.WriteSysctl("net.ipv6.conf.all.forwarding", "1");
            _ipv6Enabled = true;
        }
    }

    /// <summary>
    /// Adds a route into the device for each new VIP and removes the routes of VIPs no longer in <paramref name="vips"/>.
    /// With <paramref name="throwOnError"/> (start-up) a VIP that cannot be routed throws; otherwise it is logged and skipped.
    /// </summary>
    public void Sync(IReadOnlyCollection<IpAddress> vips, bool throwOnError)
    {
        lock (_gate)
        {
            if (_disposed) return;
            foreach (var vip in vips.Where(v => !_routes.Contains(v)).ToList())
            {
                try
                {
                    var addresses = _net.Addresses();
                    if (!vip.IsV4) EnableIpv6(); // an IPv6 VIP may arrive later through the API or a reload
                    _net.AddRoute(vip, HostBits(vip), _device, replace: true);
                    _routes.Add(vip);
                    var owner = LocalOwner(addresses, vip);
                    if (owner is null) AnnounceOnLink(addresses, vip);
                    else _log($"tunlb director: VIP {vip} is held locally on {owner}: no proxy ARP/ND; its service ports are steered into {_device}");
                    if (!throwOnError) _log($"tunlb director: route {Cidr(vip)} dev {_device} added");
                }
                catch (Exception e) when (!throwOnError)
                {
                    _logError($"tunlb director: cannot route {Cidr(vip)} into {_device}: {e.Message}");
                }
            }
            foreach (var vip in _routes.Where(v => !vips.Contains(v)).ToList())
            {
                Remove(vip);
                _log($"tunlb director: route {Cidr(vip)} dev {_device} removed");
            }
        }
    }

    /// <summary>The VIPs routed now that are local addresses of this host (on any interface but the capture device).</summary>
    public IReadOnlyCollection<IpAddress> LocalVips()
    {
        var addresses = _net.Addresses();
        lock (_gate) return _routes.Where(v => LocalOwner(addresses, v) is not null).ToArray();
    }

    /// <summary>The interface that holds <paramref name="vip"/> as a local address, or null.</summary>
    private string? LocalOwner(IReadOnlyList<InterfaceAddress> addresses, IpAddress vip)
    {
        foreach (var a in addresses)
            if (a.Address == vip && a.Device != _device) return a.Device;
        return null;
    }

    /// <summary>
    /// A VIP inside a connected subnet is reached by ARP (or ND): the upstream router asks who has it. When the
    /// director does not hold the VIP, answer for it with a proxy neighbour entry on each such interface.
    /// A routed VIP (the usual multi-director setup, e.g. ECMP or a static route to the director) needs nothing.
    /// </summary>
    private void AnnounceOnLink(IReadOnlyList<InterfaceAddress> addresses, IpAddress vip)
    {
        foreach (var (dev, addr, prefix, peer) in addresses)
        {
            // A point-to-point address's prefix is the peer's, not a broadcast domain anyone ARPs on.
            if (dev == _device || dev == "lo" || peer is not null || addr.IsV4 != vip.IsV4 || prefix == HostBits(vip)) continue;
            if (addr.Mask(prefix) != vip.Mask(prefix)) continue;
            if (_proxies.TryGetValue(vip, out var known) && known.Contains(dev)) continue; // a second address in that subnet
            try
            {
                _net.AddProxyNeighbour(vip, dev);
                if (!_proxies.TryGetValue(vip, out var devs)) _proxies[vip] = devs = new List<string>();
                devs.Add(dev);
                _log($"tunlb director: answering ARP/ND for {vip} on {dev} (on-link VIP)");
            }
            catch (Exception e) { _logError($"tunlb director: cannot add proxy neighbour for {vip} on {dev}: {e.Message}"); }
        }
    }

    private void Remove(IpAddress vip)
    {
        if (_proxies.Remove(vip, out var proxyDevs))
            foreach (var dev in proxyDevs)
                try { _net.RemoveProxyNeighbour(vip, dev); } catch { /* the device may be gone */ }
        try { _net.RemoveRoute(vip, HostBits(vip), _device); }
        catch (Exception e) { _logError($"tunlb director: cannot remove route {Cidr(vip)}: {e.Message}"); }
        _routes.Remove(vip);
    }

    private static int HostBits(IpAddress a) => a.IsV4 ? 32 : 128;
    private static string Cidr(IpAddress a) => $"{a}/{HostBits(a)}";

    /// <summary>Removes every route and proxy entry (call while the device still exists); later syncs do nothing.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            foreach (var vip in _routes.ToList()) Remove(vip);
        }
    }
}
