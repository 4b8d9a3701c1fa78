using System.Text.Json;

namespace TunLB.Linux;

/// <summary>
/// The interfaces <c>io = "xdp"</c> attaches to when <c>capture_interfaces</c> is empty: every Ethernet device that a
/// unicast route of the main table (IPv4, or IPv6 other than link-local) points at, except lo and the TUN device. The
/// XDP program parses Ethernet, so devices without an Ethernet header (ipip, WireGuard) are left out.
/// </summary>
public static class XdpInterfaces
{
    /// <summary>Reads the routes and links with <c>ip -j</c>.</summary>
    public static IReadOnlyList<string> Routed(HostNetwork net, string tunDevice) =>
        Pick(net.RunIp("-j", "-4", "route", "show"), net.RunIp("-j", "-6", "route", "show"), net.RunIp("-j", "link", "show"), tunDevice);

    /// <summary>The choice, from <c>ip -j -4 route show</c>, <c>ip -j -6 route show</c> and <c>ip -j link show</c> output, in link order.</summary>
    public static IReadOnlyList<string> Pick(string routes4, string routes6, string links, string tunDevice)
    {
        var routed = new HashSet<string>();
        foreach (var json in new[] { routes4, routes6 })
        {
            using var doc = JsonDocument.Parse(string.IsNullOrWhiteSpace(json) ? "[]" : json);
            foreach (var r in doc.RootElement.EnumerateArray())
            {
                if (!r.TryGetProperty("dev", out var dev) || dev.GetString() is not { } name) continue;
                if (r.TryGetProperty("type", out var type) && type.GetString() != "unicast") continue;
                string dst = r.TryGetProperty("dst", out var d) ? d.GetString() ?? "" : "";
                if (dst.StartsWith("fe80:", StringComparison.OrdinalIgnoreCase) || dst.StartsWith("ff", StringComparison.OrdinalIgnoreCase)) continue;
                routed.Add(name);
            }
        }
        var picked = new List<string>();
        using var linkDoc = JsonDocument.Parse(links);
        foreach (var l in linkDoc.RootElement.EnumerateArray())
        {
            if (!l.TryGetProperty("ifname", out var n) || n.GetString() is not { } name) continue;
            if (name == "lo" || name == tunDevice || !routed.Contains(name)) continue;
            if (!l.TryGetProperty("link_type", out var lt) || lt.GetString() != "ether") continue;
            picked.Add(name);
        }
        return picked;
    }
}
