using TunLB.Core.Flows;
using TunLB.Linux;

namespace TunLB.Director.Health;

/// <summary>
/// The host changes health checks through the tunnel need. Their source ports come from check_port_range, reserved from
/// the kernel's ephemeral ports with ip_local_reserved_ports; their replies come back from the VIP, which routes into
/// the capture device, so strict reverse-path filtering on the interface toward a real server would drop them: such
/// interfaces get loose mode (2). Every change is recorded in the <see cref="HostNetwork"/> and undone with it.
/// </summary>
public static class HealthHostSetup
{
    /// <summary>Applies the changes; returns one note per change for the startup message. Failures are logged, not thrown.</summary>
    /// <param name="tunnelReals">Real servers checked through the tunnel.</param>
    /// <param name="captureDevice">The director's TUN device (never changed here).</param>
    public static List<string> Apply(HostNetwork net, string checkPortRange, IEnumerable<IpAddress> tunnelReals, string? captureDevice,
                                     Action<string> logError)
    {
        var notes = new List<string>();
        try
        {
            var reserved = net.ReadSysctl("net.ipv4.ip_local_reserved_ports").Trim();
            if (!reserved.Split(',').Contains(checkPortRange))
            {
                net.WriteSysctl("net.ipv4.ip_local_reserved_ports", reserved.Length == 0 ? checkPortRange : reserved + "," + checkPortRange);
                notes.Add($"ip_local_reserved_ports += {checkPortRange}");
            }
        }
        catch (Exception e) { logError($"tunlb director: health: cannot reserve {checkPortRange}: {e.Message}"); }
        var devs = new HashSet<string>();
        foreach (var addr in tunnelReals.Distinct())
        {
            try
            {
                if (RoutePath.Device(net, addr) is { } dev) devs.Add(dev);
            }
            catch (Exception e) { logError($"tunlb director: health: no route to {addr}: {e.Message}"); }
        }
        foreach (var dev in devs.Where(x => x != captureDevice))
        {
            try
            {
                var all = net.ReadSysctl("net.ipv4.conf.all.rp_filter").Trim();
                var cur = net.ReadSysctl($"net.ipv4.conf.{dev}.rp_filter").Trim();
                if (all == "1" || cur == "1")
                {
                    net.WriteSysctl($"net.ipv4.conf.{dev}.rp_filter", "2");
                    notes.Add($"rp_filter {dev}=2 (check replies come from the VIP)");
                }
            }
            catch (Exception e) { logError($"tunlb director: health: rp_filter on {dev}: {e.Message}"); }
        }
        return notes;
    }
}
