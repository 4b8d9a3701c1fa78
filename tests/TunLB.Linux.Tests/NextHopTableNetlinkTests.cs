using TunLB.Core.Flows;

namespace TunLB.Linux.Tests;

/// <summary>
/// <see cref="NextHopTable.Refresh"/> (rtnetlink) against the `ip -j` reading of the same namespace
/// (<see cref="NextHopTable.Resolve(string, string, string)"/> on `ip -j -force -batch` route gets, `ip -j neigh`,
/// `ip -j link`): the same destinations resolve to the same hops, on a topology with each case that decides.
/// </summary>
public sealed class NextHopTableNetlinkTests
{
    private static readonly IpAddress Src4 = IpAddress.Parse("192.0.2.1"), Src6 = IpAddress.Parse("2001:db8:1::1");

    [Fact]
    public void Refresh_ResolvesExactlyWhatIpJsonResolves_Ipv4AndIpv6()
    {
        using var director = new TestNetns();
        using var peer = new TestNetns();
        var (dev, _) = TestNetns.CreateVethPair(director, "192.0.2.1/24", peer, "192.0.2.2/24");
        string noArp = "na" + director.Name[5..], noArpPeer = "nb" + director.Name[5..], tun = "tu" + director.Name[5..];
        string[] setup =
        [
            $"addr add 2001:db8:1::1/64 dev {dev} nodad",
            $"route add 198.51.100.0/25 via 192.0.2.254",                                       // via a gateway
            $"neigh replace 192.0.2.254 lladdr 02:00:00:00:00:fe dev {dev} nud permanent",
            $"neigh replace 192.0.2.20 lladdr 02:00:00:00:00:14 dev {dev} nud reachable",     // on-link, resolved
            $"neigh replace 192.0.2.21 lladdr 02:00:00:00:00:15 dev {dev} nud permanent",     // asked from a foreign source
            $"neigh replace 192.0.2.22 lladdr 02:00:00:00:00:16 dev {dev} nud permanent",
            $"route add unreachable 203.0.113.0/24",
            $"route add 198.51.100.128/25 via inet6 2001:db8:1::fe dev {dev}",                 // IPv4 via an IPv6 router
            $"link add {noArp} type veth peer name {noArpPeer}",                                 // Ethernet, but no ARP
            $"link set {noArpPeer} up",
            $"link set {noArp} arp off up",
            $"addr add 198.18.0.1/24 dev {noArp}",
            $"neigh replace 198.18.0.9 lladdr 02:00:00:00:01:09 dev {noArp} nud noarp",
            $"neigh replace 198.18.0.10 lladdr 02:00:00:00:01:0a dev {noArp} nud permanent",
            $"tuntap add dev {tun} mode tun",                                                     // not Ethernet
            $"link set {tun} up",
            $"addr add 198.18.1.1/24 dev {tun}",
            $"-6 route add 2001:db8:2::/64 via 2001:db8:1::fe",
            $"-6 neigh replace 2001:db8:1::fe lladdr 02:00:00:00:02:fe dev {dev} nud permanent",
            $"-6 neigh replace 2001:db8:1::20 lladdr 02:00:00:00:02:20 dev {dev} nud reachable",
            $"-6 route add unreachable 2001:db8:dead::/48",
        ];
        foreach (var line in setup) director.Exec(line.Split(' '));

        (IpAddress, IpAddress)[] wanted =
        [
            (IpAddress.Parse("198.51.100.7"), Src4), (IpAddress.Parse("192.0.2.20"), Src4), (IpAddress.Parse("192.0.2.22"), default),
            (IpAddress.Parse("192.0.2.21"), IpAddress.Parse("203.0.113.99")), (IpAddress.Parse("192.0.2.30"), Src4),
            (IpAddress.Parse("203.0.113.5"), Src4), (IpAddress.Parse("198.51.100.200"), Src4), (IpAddress.Parse("198.18.0.9"), Src4),
            (IpAddress.Parse("198.18.0.10"), Src4), (IpAddress.Parse("198.18.1.9"), Src4),
            (IpAddress.Parse("2001:db8:2::7"), Src6), (IpAddress.Parse("2001:db8:1::20"), Src4), (IpAddress.Parse("2001:db8:1::30"), Src6),
            (IpAddress.Parse("2001:db8:dead::1"), Src6),
        ];
        using var table = director.Run(() => new NextHopTable(() => wanted, intervalMs: 0));

        var resolved = RefreshAndCompare(director, table, wanted);
        Assert.Equal(
            ["192.0.2.20 via 192.0.2.20", "192.0.2.22 via 192.0.2.22", "198.18.0.10 via 198.18.0.10", "198.51.100.7 via 192.0.2.254",
             "2001:db8:1::20 via 2001:db8:1::20", "2001:db8:2::7 via 2001:db8:1::fe"],
            resolved.Select(e => $"{e.Key} via {e.Value.Via}").Order(StringComparer.Ordinal));
        var gw = resolved[IpAddress.Parse("198.51.100.7")];
        Assert.Equal(("0200000000FE", dev, 1500), (Convert.ToHexString(gw.Mac), gw.Device, gw.Mtu));
        Assert.Equal(6, gw.SourceMac?.Length);

        // The same socket sees a change at the next refresh.
        director.Exec("neigh", "replace", "192.0.2.30", "lladdr", "02:00:00:00:00:1e", "dev", dev, "nud", "permanent");
        director.Exec("neigh", "del", "192.0.2.20", "dev", dev);
        resolved = RefreshAndCompare(director, table, wanted);
        Assert.Contains(IpAddress.Parse("192.0.2.30"), resolved.Keys);
        Assert.DoesNotContain(IpAddress.Parse("192.0.2.20"), resolved.Keys);
    }

    [Fact]
    public void Refresh_ManyDestinations_AcrossSeveralRequestBatches()
    {
        using var director = new TestNetns();
        using var peer = new TestNetns();
        var (dev, _) = TestNetns.CreateVethPair(director, "198.18.0.1/16", peer, "198.18.0.2/16");
        var wanted = Enumerable.Range(0, 300).Select(i => (IpAddress.FromV4(0xC6120000u + 256 + (uint)i), IpAddress.Parse("198.18.0.1"))).ToArray();
        // Every third one has a neighbour entry; the rest have none yet.
        string batch = string.Join('\n', wanted.Where((_, i) => i % 3 == 0)
            .Select(w => $"neigh replace {w.Item1} lladdr 02:00:00:00:{w.Item1.V4 >> 8 & 0xFF:x2}:{w.Item1.V4 & 0xFF:x2} dev {dev} nud permanent"));
        var (code, _, err) = ExternalTool.Run("ip", ["-n", director.Name, "-batch", "-"], batch + "\n");
        Assert.True(code == 0, err);
        using var table = director.Run(() => new NextHopTable(() => wanted, intervalMs: 0));
        var resolved = RefreshAndCompare(director, table, wanted);
        Assert.Equal(100, resolved.Count);
        Assert.All(resolved, e => Assert.Equal((byte)e.Key.V4, e.Value.Mac[5]));
    }

    /// <summary>Refreshes the table, reads the same tables with `ip -j`, and asserts both resolve the same hops.</summary>
    private static IReadOnlyDictionary<IpAddress, LinkHop> RefreshAndCompare(TestNetns ns, NextHopTable table, (IpAddress Dst, IpAddress Src)[] wanted)
    {
        int count = ns.Run(() => table.Refresh());
        var byNetlink = table.Current?.ByDestination() ?? new Dictionary<IpAddress, LinkHop>();
        Assert.Equal(count, byNetlink.Count);
        var byIp = NextHopTable.Resolve(IpJson(ns, wanted), ns.Exec("-j", "neigh", "show"), ns.Exec("-j", "link", "show"));
        Assert.Equal(Describe(byIp), Describe(byNetlink));
        return byNetlink;
    }

    // What the table used to run: one batch of route gets, the failing ones (unreachable, foreign source) left out.
    private static string IpJson(TestNetns ns, (IpAddress Dst, IpAddress Src)[] wanted)
    {
        string batch = string.Concat(wanted.Select(w => $"route get {w.Dst}{(w.Src == default || w.Src.IsV4 != w.Dst.IsV4 ? "" : $" from {w.Src}")}\n"));
        return ExternalTool.Run("ip", ["-n", ns.Name, "-j", "-force", "-batch", "-"], batch).Stdout;
    }

    private static string[] Describe(IEnumerable<KeyValuePair<IpAddress, LinkHop>> hops) =>
        hops.Select(e => $"{e.Key}: {e.Value.IfIndex} {e.Value.IsV4} {Convert.ToHexString(e.Value.Mac)} {e.Value.Device} {e.Value.Via} " +
                         $"{(e.Value.SourceMac is { } m ? Convert.ToHexString(m) : "-")} {e.Value.Mtu}")
            .Order(StringComparer.Ordinal).ToArray();
}
