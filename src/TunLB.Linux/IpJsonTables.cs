using System.Net;
using System.Text.Json;
using TunLB.Core.Flows;
using TunLB.Linux.Netlink;

namespace TunLB.Linux;

/// <summary>
/// Reads `ip -j` output (`route get` lines, `neigh show`, `link show`) into the records rtnetlink gives
/// <see cref="NextHopResolver"/>: the tests' independent view of the kernel's tables. Devices are named in `ip`'s
/// output, so routes and neighbours are matched to the links' indexes by name.
/// </summary>
internal static class IpJsonTables
{
    // iproute2's names for rtm_type (rtnl_rtntype_n2a), by value.
    private static readonly string[] RouteTypes =
        ["unspec", "unicast", "local", "broadcast", "anycast", "multicast", "blackhole", "unreachable", "prohibit", "throw", "nat", "xresolve"];

    // iproute2's names for the NUD_* bits, bit 0 first.
    private static readonly string[] NeighbourStates = ["INCOMPLETE", "REACHABLE", "STALE", "DELAY", "PROBE", "FAILED", "NOARP", "PERMANENT"];

    public static List<KernelLink> Links(string linkJson)
    {
        var links = new List<KernelLink>();
        using var doc = JsonDocument.Parse(linkJson);
        foreach (var l in doc.RootElement.EnumerateArray())
        {
            if (!l.TryGetProperty("ifname", out var n) || !l.TryGetProperty("ifindex", out var ix)) continue;
            ushort type = l.TryGetProperty("link_type", out var lt) && lt.GetString() == "ether" ? Interop.ARPHRD_ETHER : Interop.ARPHRD_VOID;
            uint flags = l.TryGetProperty("flags", out var fl) && fl.EnumerateArray().Any(f => f.GetString() == "UP") ? Interop.IFF_UP : 0;
            byte[]? own = l.TryGetProperty("address", out var a) && TryMac(a.GetString(), out var m) ? m : null;
            int mtu = l.TryGetProperty("mtu", out var mt) && mt.TryGetInt32(out int mv) ? mv : 0;
            links.Add(new KernelLink(ix.GetInt32(), n.GetString()!, type, flags, own, mtu));
        }
        return links;
    }

    /// <summary>`ip -j neigh show`. An entry without a state is NUD_NONE (`ip` prints none for state 0).</summary>
    public static List<KernelNeighbour> Neighbours(string neighJson, IReadOnlyList<KernelLink> links)
    {
        var index = IndexByName(links);
        var neighbours = new List<KernelNeighbour>();
        using var doc = JsonDocument.Parse(neighJson);
        foreach (var e in doc.RootElement.EnumerateArray())
        {
            if (!e.TryGetProperty("dst", out var d) || !e.TryGetProperty("dev", out var dev) || !e.TryGetProperty("lladdr", out var ll)) continue;
            if (!IPAddress.TryParse(d.GetString(), out var ip) || !TryMac(ll.GetString(), out var mac)) continue;
            ushort state = Interop.NUD_NONE;
            if (e.TryGetProperty("state", out var st))
                foreach (var s in st.EnumerateArray())
                    if (Array.IndexOf(NeighbourStates, s.GetString()) is int bit and >= 0) state |= (ushort)(1 << bit);
            neighbours.Add(new KernelNeighbour(index.GetValueOrDefault(dev.GetString()!), IpAddress.FromIPAddress(ip), mac, state));
        }
        return neighbours;
    }

    /// <summary>`ip -j route get` output, one JSON array per line; lines that are not JSON arrays are skipped.</summary>
    public static List<KernelRoute> Routes(string routeJsonLines, IReadOnlyList<KernelLink> links)
    {
        var index = IndexByName(links);
        var routes = new List<KernelRoute>();
        foreach (var line in routeJsonLines.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!line.StartsWith('[')) continue;
            using var doc = JsonDocument.Parse(line);
            foreach (var r in doc.RootElement.EnumerateArray())
            {
                // `ip` names the type only when it is not unicast.
                byte type = Interop.RTN_UNICAST;
                if (r.TryGetProperty("type", out var t)) type = (byte)Math.Max(0, Array.IndexOf(RouteTypes, t.GetString()));
                if (!r.TryGetProperty("dst", out var d) || !IPAddress.TryParse(d.GetString(), out var dst)) continue;
                int oif = r.TryGetProperty("dev", out var dev) && dev.GetString() is { } name ? index.GetValueOrDefault(name) : 0;
                IpAddress? gateway = null;
                if (r.TryGetProperty("gateway", out var gw))
                {
                    if (!IPAddress.TryParse(gw.GetString(), out var g)) continue;
                    gateway = IpAddress.FromIPAddress(g);
                }
                else if (r.TryGetProperty("via", out var via)) // RTA_VIA: {"family":"inet6","host":"..."}
                {
                    if (!via.TryGetProperty("host", out var host) || !IPAddress.TryParse(host.GetString(), out var h)) continue;
                    gateway = IpAddress.FromIPAddress(h);
                }
                routes.Add(new KernelRoute(IpAddress.FromIPAddress(dst), type, oif, gateway));
            }
        }
        return routes;
    }

    private static Dictionary<string, int> IndexByName(IReadOnlyList<KernelLink> links)
    {
        var index = new Dictionary<string, int>();
        foreach (var l in links) index[l.Name] = l.Index;
        return index;
    }

    private static bool TryMac(string? text, out byte[] mac)
    {
        mac = new byte[6];
        if (text is null) return false;
        var parts = text.Split(':');
        if (parts.Length != 6) return false;
        for (int i = 0; i < 6; i++)
            if (!byte.TryParse(parts[i], System.Globalization.NumberStyles.HexNumber, null, out mac[i])) return false;
        return true;
    }
}
