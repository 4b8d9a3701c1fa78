using TunLB.Core.Flows;

namespace TunLB.Linux;

/// <summary>
/// The routes a routing daemon announces for this director: one host route per VIP (VIP/32 or /128) through the
/// director's own TUN device in a table the host does not route with (<c>announce_table</c>). The device is not
/// persistent, so when the process dies, however it dies, the kernel deletes the device and these routes with it:
/// nothing keeps announcing a VIP no live director serves. Every change goes through <see cref="HostNetwork"/> (undone
/// with it). Control plane; thread-safe.
/// </summary>
public sealed class AnnounceTable : IDisposable
{
    private readonly HostNetwork _net;
    private readonly string _device;
    private readonly Action<string> _log;
    private readonly Action<string> _logError;
    private readonly object _gate = new();
    private readonly HashSet<IpAddress> _routes = new();
    private bool _disposed;

    public AnnounceTable(HostNetwork net, string device, int table, Action<string> log, Action<string> logError)
    {
        _net = net; _device = device; Table = table; _log = log; _logError = logError;
    }

    public int Table { get; }

    /// <summary>The VIPs with a route in the table now.</summary>
    public IReadOnlyCollection<IpAddress> Announced { get { lock (_gate) return _routes.ToArray(); } }

    /// <summary>
    /// Adds a route for each VIP of <paramref name="vips"/> not in the table and removes the others. A route that
    /// cannot be added or removed is logged and tried again at the next call.
    /// </summary>
    public void Sync(IReadOnlyCollection<IpAddress> vips)
    {
        lock (_gate)
        {
            if (_disposed) return;
            foreach (var vip in vips)
            {
                if (_routes.Contains(vip)) continue;
                try
                {
                    _net.AddTableRoute(vip, HostBits(vip), _device, Table);
                    _routes.Add(vip);
                    _log($"tunlb director: announce: {Cidr(vip)} dev {_device} table {Table} added");
                }
                catch (Exception e) { _logError($"tunlb director: announce: cannot add {Cidr(vip)} to table {Table}: {e.Message}"); }
            }
            foreach (var vip in _routes.Where(v => !vips.Contains(v)).ToList()) Remove(vip);
        }
    }

    /// <summary>Removes every route (withdraws every VIP); later syncs add them again.</summary>
    public void Clear()
    {
        lock (_gate)
            foreach (var vip in _routes.ToList()) Remove(vip);
    }

    private void Remove(IpAddress vip)
    {
        try
        {
            _net.RemoveTableRoute(vip, HostBits(vip), _device, Table);
            _routes.Remove(vip);
            _log($"tunlb director: announce: {Cidr(vip)} table {Table} removed");
        }
        catch (Exception e)
        {
            // Already gone (someone deleted it): nothing left to withdraw.
            if (e.Message.Contains("No such process", StringComparison.Ordinal)) _routes.Remove(vip);
            _logError($"tunlb director: announce: cannot remove {Cidr(vip)} from table {Table}: {e.Message}");
        }
    }

    private static int HostBits(IpAddress a) => a.IsV4 ? 32 : 128;
    private static string Cidr(IpAddress a) => $"{a}/{HostBits(a)}";

    /// <summary>Removes every route (call while the device still exists); later syncs do nothing.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            Clear();
            _disposed = true;
        }
    }
}
