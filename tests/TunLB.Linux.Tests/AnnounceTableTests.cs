using TunLB.Core.Flows;

namespace TunLB.Linux.Tests;

/// <summary>The announce table's routes (table N through the director's TUN device), in a private namespace.</summary>
public sealed class AnnounceTableTests
{
    private static readonly IpAddress Vip = IpAddress.Parse("203.0.113.10"), Vip2 = IpAddress.Parse("203.0.113.20"),
        Vip6 = IpAddress.Parse("2001:db8:7::10");

    [Fact]
    public void Follows_the_set_it_is_given_and_leaves_nothing_behind()
    {
        using var a = new TestNetns();
        string tun = "ta" + a.Name[5..];
        using var dev = a.Run(() => TunDevice.Open(tun));
        a.Exec("link", "set", tun, "up");
        var log = new List<string>();
        var errors = new List<string>();
        using var net = new HostNetwork(a.Name);
        var table = new AnnounceTable(net, tun, 120, log.Add, errors.Add);

        table.Sync([Vip, Vip2, Vip6]);
        Assert.Contains($"203.0.113.10 dev {tun}", a.Exec("route", "show", "table", "120"));
        Assert.Contains($"203.0.113.20 dev {tun}", a.Exec("route", "show", "table", "120"));
        Assert.Contains($"2001:db8:7::10 dev {tun}", a.Exec("-6", "route", "show", "table", "120"));
        Assert.DoesNotContain("203.0.113.10", a.Exec("route", "show")); // not in the main table
        Assert.Contains($"tunlb director: announce: 203.0.113.10/32 dev {tun} table 120 added", log);

        table.Sync([Vip2]);
        Assert.DoesNotContain("203.0.113.10", a.Exec("route", "show", "table", "120"));
        Assert.Equal([Vip2], table.Announced);
        Assert.DoesNotContain(net.PendingUndo, u => u.Contains("203.0.113.10"));

        table.Clear();
        Assert.Empty(table.Announced);
        table.Sync([Vip]);
        table.Dispose();
        Assert.Equal("", a.Exec("route", "show", "table", "120").Trim());
        Assert.DoesNotContain(net.PendingUndo, u => u.StartsWith("route"));
        table.Sync([Vip]); // after Dispose: nothing
        Assert.Equal("", a.Exec("route", "show", "table", "120").Trim());
        Assert.Empty(errors);
    }

    [Fact]
    public void The_routes_go_when_the_device_is_closed()
    {
        using var a = new TestNetns();
        string tun = "ta" + a.Name[5..];
        var dev = a.Run(() => TunDevice.Open(tun));
        a.Exec("link", "set", tun, "up");
        using var net = new HostNetwork(a.Name);
        var table = new AnnounceTable(net, tun, 100, _ => { }, _ => { });
        table.Sync([Vip]);
        Assert.Contains("203.0.113.10", a.Exec("route", "show", "table", "100"));

        dev.Dispose(); // what the kernel does when the process dies: the last descriptor closes
        Assert.Equal("", a.Exec("route", "show", "table", "100").Trim());
        Assert.DoesNotContain(tun, a.Exec("link", "show"));
    }
}
