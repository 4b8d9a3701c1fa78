using System.Text;
using TunLB.Core.Model;

namespace TunLB.Linux;

/// <summary>
/// Takes the service ports of VIPs the host holds itself (IPVS wants the VIP on the director's `lo` or uplink) away
/// from local delivery: an nftables table unique to this process marks packets to those services (the matches of
/// <see cref="NftServiceSets"/>) at prerouting and, for the director's own health checks, at output (a route chain, so
/// the kernel routes them again); `ip rule fwmark M/M lookup T` placed right before the `local` rule sends marked packets
/// to table T, whose default route is the capture device. The kernel then forwards them into the device as for any VIP,
/// while other ports of the VIP are delivered locally as before. Nothing is set up until a local VIP has a service.
/// </summary>
/// <remarks>
/// The rules and table T's routes are recorded in the <see cref="HostNetwork"/> and undone with it; the nft table is
/// deleted on <see cref="Dispose"/>, and tables of directors that died are deleted when steering starts. Rules left by a
/// killed director are harmless (without the nft table nothing is marked) and are replaced at the next start.
/// Control plane; thread-safe.
/// </remarks>
public sealed class LocalVipSteering : IDisposable
{
    /// <summary>The fwmark bit set on steered packets (only this bit is set and matched).</summary>
    public const uint Mark = 0x00540000;
    /// <summary>The routing table with the default route into the capture device ("TL").</summary>
    public const int RouteTable = 21580;
    private const string TablePrefix = "tunlb_steer_";

    private readonly HostNetwork _net;
    private readonly string _device;
    private readonly Action<string> _log;
    private readonly Action<string> _logError;
    private readonly string _table = TablePrefix + Environment.ProcessId;
    private readonly object _gate = new();
    private ServiceEndpoints _current = ServiceEndpoints.Empty;
    private bool _tableCreated, _v4, _v6, _disposed;

    public LocalVipSteering(HostNetwork net, string device, Action<string> log, Action<string> logError)
    {
        _net = net; _device = device; _log = log; _logError = logError;
    }

    public string Table => _table;

    /// <summary>The service endpoints steered now.</summary>
    public ServiceEndpoints Steered { get { lock (_gate) return _current; } }

    /// <summary>
    /// Steers exactly <paramref name="endpoints"/> (services of VIPs held locally) from now on; the first call with a
    /// non-empty set installs the table and the rules. Throws on failure (the caller logs).
    /// </summary>
    public void Update(ServiceEndpoints endpoints)
    {
        lock (_gate)
        {
            if (_disposed) return;
            if (endpoints.Count == 0 && !_tableCreated) return;
            if (!_tableCreated) Install();
            bool v4 = endpoints.Keys.Any(k => k.Vip.IsV4), v6 = endpoints.Keys.Any(k => !k.Vip.IsV4);
            if (v4 && !_v4) { Route(ipv6: false); _v4 = true; }
            if (v6 && !_v6) { Route(ipv6: true); _v6 = true; }
            if (_current.SetEquals(endpoints)) return;
            Nftables.Run(NftServiceSets.Elements(_table, endpoints, flush: true));
            _current = endpoints;
            _log($"tunlb director: local VIP service ports taken from local delivery: {(endpoints.Count == 0 ? "none" : endpoints.ToString())}");
        }
    }

    private void Install()
    {
        Nftables.RemoveStaleTables(TablePrefix, _logError);
        string mark = $"meta mark set meta mark or 0x{Mark:x}";
        var sb = new StringBuilder();
        sb.Append($"table inet {_table} {{\n");
        sb.Append(NftServiceSets.Declarations);
        sb.Append("  chain prerouting {\n    type filter hook prerouting priority mangle; policy accept;\n");
        sb.Append(NftServiceSets.Rules(mark));
        sb.Append("  }\n  chain output {\n    type route hook output priority mangle; policy accept;\n");
        sb.Append(NftServiceSets.Rules(mark));
        sb.Append("  }\n}\n");
        _tableCreated = true; // from here on Dispose tries to delete it
        Nftables.Run(sb.ToString());
    }

    private void Route(bool ipv6)
    {
        _net.AddDefaultRoute(ipv6, _device, RouteTable);
        int pref = _net.AddMarkRuleBeforeLocal(ipv6, Mark, RouteTable);
        _log($"tunlb director: ip {(ipv6 ? "-6 " : "")}rule pref {pref} fwmark 0x{Mark:x}/0x{Mark:x} lookup {RouteTable} " +
             $"(before lookup local; table {RouteTable}: default dev {_device})");
    }

    /// <summary>Deletes the nft table (the rules and routes go with the <see cref="HostNetwork"/>'s undo); later updates do nothing.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            if (!_tableCreated) return;
            try { Nftables.Command("delete", "table", "inet", _table); }
            catch (HostNetworkException e) { _logError($"tunlb director: cannot delete nft table inet {_table}: {e.Message}"); }
            _tableCreated = false;
        }
    }
}
