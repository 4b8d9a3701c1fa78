using TunLB.Core.Flows;

namespace TunLB.Linux.Tests;

/// <summary>The director's VIP routes and proxy ARP/ND entries, in a private namespace.</summary>
public sealed class VipRoutesTests
{
    [Fact]
    public void Routes_every_VIP_answers_ARP_and_ND_for_on_link_ones_and_removes_them_again()
    {
        using var a = new TestNetns();
        using var b = new TestNetns();
        var (devA, _) = TestNetns.CreateVethPair(a, "192.0.2.1/24", b, "192.0.2.2/24");
        a.Exec("addr", "add", "2001:db8:5::1/64", "dev", devA);
        string tun = "tv" + a.Name[5..];
        a.Exec("tuntap", "add", "mode", "tun", "name", tun);
        a.Exec("link", "set", tun, "up");
        var log = new List<string>();
        var errors = new List<string>();
        using var net = new HostNetwork(a.Name);
        var routes = new VipRoutes(net, tun, log.Add, errors.Add);
        IpAddress onLink = IpAddress.Parse("192.0.2.50"), routed = IpAddress.Parse("203.0.113.10"), onLink6 = IpAddress.Parse("2001:db8:5::50");

        routes.Sync([onLink, routed, onLink6], throwOnError: true);
        Assert.Contains($"192.0.2.50 dev {tun}", a.Exec("route", "show"));
        Assert.Contains($"203.0.113.10 dev {tun}", a.Exec("route", "show"));
        Assert.Contains($"2001:db8:5::50 dev {tun}", a.Exec("-6", "route", "show"));
        Assert.Equal("0", net.ReadSysctl($"net.ipv6.conf.{tun}.disable_ipv6"));
        Assert.Equal("1", net.ReadSysctl("net.ipv6.conf.all.forwarding"));
        string proxies = a.Exec("neigh", "show", "proxy") + a.Exec("-6", "neigh", "show", "proxy");
        Assert.Contains($"192.0.2.50 dev {devA}", proxies);
        Assert.Contains($"2001:db8:5::50 dev {devA}", proxies);
        Assert.DoesNotContain("203.0.113.10", proxies); // routed elsewhere: nobody ARPs for it here
        Assert.Contains($"tunlb director: answering ARP/ND for 192.0.2.50 on {devA} (on-link VIP)", log);
        Assert.Equal(3, routes.Routed.Count);
        Assert.Empty(errors);

        routes.Sync([routed], throwOnError: false);
        Assert.DoesNotContain("192.0.2.50", a.Exec("route", "show"));
        Assert.DoesNotContain("2001:db8:5::50", a.Exec("-6", "route", "show"));
        Assert.DoesNotContain("192.0.2.50", a.Exec("neigh", "show", "proxy"));
        Assert.Contains($"tunlb director: route 192.0.2.50/32 dev {tun} removed", log);
        Assert.Equal([routed], routes.Routed);
        // Removed routes and proxy entries leave nothing to undo.
        Assert.DoesNotContain(net.PendingUndo, u => u.Contains("192.0.2.50") || u.Contains("2001:db8:5::50"));

        routes.Dispose();
        Assert.DoesNotContain("203.0.113.10", a.Exec("route", "show"));
        Assert.DoesNotContain(net.PendingUndo, u => u.StartsWith("route") || u.StartsWith("proxy"));
        routes.Sync([onLink], throwOnError: false); // after Dispose: nothing
        Assert.DoesNotContain("192.0.2.50", a.Exec("route", "show"));
    }

    [Fact]
    public void A_VIP_held_by_the_host_is_routed_without_proxy_ARP_and_reported_local()
    {
        // Was: refused at start ("Unlike IPVS, TunLB must not hold the VIP"); a local VIP is now steered (LocalVipSteering).
        using var a = new TestNetns();
        using var b = new TestNetns();
        var (devA, _) = TestNetns.CreateVethPair(a, "198.51.100.1/24", b, "198.51.100.2/24");
        string tun = "tv" + a.Name[5..];
        a.Exec("tuntap", "add", "mode", "tun", "name", tun);
        a.Exec("link", "set", tun, "up");
        a.Exec("addr", "add", "198.51.100.7/32", "dev", "lo");
        var log = new List<string>();
        var errors = new List<string>();
        using var net = new HostNetwork(a.Name);
        using var routes = new VipRoutes(net, tun, log.Add, errors.Add);
        var held = IpAddress.Parse("198.51.100.7");
        var other = IpAddress.Parse("198.51.100.8");

        routes.Sync([held, other], throwOnError: true);
        Assert.Empty(errors);
        Assert.Equal(2, routes.Routed.Count);
        Assert.Contains($"198.51.100.7 dev {tun}", a.Exec("route", "show"));
        Assert.Equal([held], routes.LocalVips());
        Assert.Contains($"tunlb director: VIP 198.51.100.7 is held locally on lo: no proxy ARP/ND; its service ports are steered into {tun}", log);
        string proxies = a.Exec("neigh", "show", "proxy");
        Assert.DoesNotContain("198.51.100.7", proxies); // the host answers ARP for its own address
        Assert.Contains($"198.51.100.8 dev {devA}", proxies); // on-link, not held: proxy ARP as before
    }
}
