using TunLB.Core.Flows;
using TunLB.Linux.Netlink;

namespace TunLB.Linux;

/// <summary>
/// The pure part of <see cref="NextHopTable"/>: from the kernel's answers (a route per destination, the neighbour
/// table, the devices), the link-layer next hop of every destination the director may send straight to the device.
/// </summary>
internal static class NextHopResolver
{
    // Entries the kernel has no (or no trustworthy) link-layer address for; NOARP entries (multicast, point-to-point)
    // are hidden by `ip neigh show` as well.
    private const ushort Unusable = Interop.NUD_INCOMPLETE | Interop.NUD_FAILED | Interop.NUD_NOARP;

    /// <summary>
    /// A destination qualifies when its route is unicast, leaves through an Ethernet device that is up, and the next hop
    /// (the gateway, else the destination itself) has a usable neighbour entry on that device. A gateway of the other
    /// family (an IPv4 route via an IPv6 router, RTA_VIA) is left to the kernel.
    /// </summary>
    public static Dictionary<IpAddress, LinkHop> Resolve(IEnumerable<KernelRoute> routes, IEnumerable<KernelNeighbour> neighbours, IEnumerable<KernelLink> links)
    {
        var byIndex = new Dictionary<int, KernelLink>();
        foreach (var l in links) byIndex[l.Index] = l;
        var macs = new Dictionary<(int IfIndex, IpAddress Address), byte[]>();
        foreach (var n in neighbours)
            if (IsUsable(n.State) && n.LinkAddress is { Length: 6 }) macs[(n.IfIndex, n.Address)] = n.LinkAddress;
        var result = new Dictionary<IpAddress, LinkHop>();
        foreach (var r in routes)
        {
            if (r.Type != Interop.RTN_UNICAST) continue;
            if (!byIndex.TryGetValue(r.OutIfIndex, out var link) || link.Type != Interop.ARPHRD_ETHER || (link.Flags & Interop.IFF_UP) == 0) continue;
            var via = r.Gateway ?? r.Destination;
            if (via.IsV4 != r.Destination.IsV4) continue;
            if (!macs.TryGetValue((link.Index, via), out var mac)) continue;
            result[r.Destination] = new LinkHop(link.Index, r.Destination.IsV4, mac, link.Name, via, link.Address is { Length: 6 } own ? own : null, link.Mtu);
        }
        return result;
    }

    /// <summary>A neighbour state with a link-layer address the kernel itself would send to (not NONE, INCOMPLETE, FAILED, NOARP).</summary>
    public static bool IsUsable(ushort state) => state != Interop.NUD_NONE && (state & Unusable) == 0;
}
