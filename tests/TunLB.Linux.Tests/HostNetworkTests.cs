using System.Net;
using System.Net.Sockets;
using TunLB.Core.Flows;

namespace TunLB.Linux.Tests;

/// <summary>(d) HostNetwork changes inside a private namespace, and their undo.</summary>
public sealed class HostNetworkTests
{
    private static string ReadInNs(TestNetns ns, string path) => ns.Run(() => File.ReadAllText(path)).Trim();

    [Fact]
    public void Undo_RestoresSysctlAndRemovesAddress()
    {
        using var ns = new TestNetns();
        string hostForward = File.ReadAllText("/proc/sys/net/ipv4/ip_forward").Trim();
        var log = new List<string>();
        using var host = new HostNetwork(ns.Name, log.Add);

        Assert.Equal("0", host.ReadSysctl("net.ipv4.ip_forward"));
        host.WriteSysctl("net.ipv4.ip_forward", "1");
        host.AddAddress("lo", IpAddress.Parse("198.51.100.9"), 32);

        Assert.Equal("1", ReadInNs(ns, "/proc/sys/net/ipv4/ip_forward"));
        Assert.Equal(hostForward, File.ReadAllText("/proc/sys/net/ipv4/ip_forward").Trim()); // host untouched
        Assert.Contains("198.51.100.9/32", ns.Exec("addr", "show", "dev", "lo"));
        Assert.Equal(2, host.PendingUndo.Count);

        host.Undo();
        Assert.Equal("0", ReadInNs(ns, "/proc/sys/net/ipv4/ip_forward"));
        Assert.DoesNotContain("198.51.100.9", ns.Exec("addr", "show", "dev", "lo"));
        Assert.Empty(host.PendingUndo);
        Assert.Contains(log, l => l.StartsWith("undone: sysctl net.ipv4.ip_forward=1"));

        host.Undo(); // twice: nothing left, no error
        host.Dispose();
    }

    [Fact]
    public void Dispose_UndoesInReverseOrder_LinkRouteAndDeviceSysctl()
    {
        using var a = new TestNetns();
        using var b = new TestNetns();
        var (devA, _) = TestNetns.CreateVethPair(a, "192.0.2.1/24", b, "192.0.2.2/24");
        a.Exec("link", "set", devA, "down");
        var log = new List<string>();
        string rpFilter = ReadInNs(a, $"/proc/sys/net/ipv4/conf/{devA}/rp_filter");

        using (var host = new HostNetwork(a.Name, log.Add))
        {
            host.SetLinkUp(devA, mtu: 1400);
            Assert.Equal((true, 1400), host.GetLink(devA));
            host.AddRoute(IpAddress.Parse("203.0.113.10"), 32, devA);
            Assert.Contains("203.0.113.10 dev " + devA, a.Exec("route", "show"));
            host.WriteSysctl($"net.ipv4.conf.{devA}.rp_filter", rpFilter == "2" ? "1" : "2");
            Assert.Equal(rpFilter == "2" ? "1" : "2", ReadInNs(a, $"/proc/sys/net/ipv4/conf/{devA}/rp_filter"));
            Assert.Equal(IpAddress.Parse("192.0.2.1"), host.SourceAddressToward(IpAddress.Parse("192.0.2.2")));
            Assert.Equal(IpAddress.Parse("192.0.2.1"), host.SourceAddressToward(IpAddress.Parse("203.0.113.10")));
        }

        using var check = new HostNetwork(a.Name);
        Assert.Equal((false, 1500), check.GetLink(devA));
        Assert.DoesNotContain("203.0.113.10", a.Exec("route", "show"));
        Assert.Equal(rpFilter, check.ReadSysctl($"net.ipv4.conf.{devA}.rp_filter"));
        var undone = log.Where(l => l.StartsWith("undone: ")).ToList();
        Assert.Equal(4, undone.Count);
        Assert.StartsWith("undone: sysctl", undone[0]);
        Assert.StartsWith("undone: route", undone[1]);
        Assert.StartsWith("undone: link", undone[2]);
        Assert.StartsWith("undone: mtu", undone[3]);
    }

    [Fact]
    public void RemoveRoute_OfAnAddedRoute_LeavesNothingToUndo_OfAnyOtherRoute_RestoresIt()
    {
        using var a = new TestNetns();
        using var b = new TestNetns();
        var (devA, _) = TestNetns.CreateVethPair(a, "192.0.2.1/24", b, "192.0.2.2/24");
        a.Exec("route", "add", "198.51.100.0/24", "dev", devA); // the host's own route
        var log = new List<string>();
        using var host = new HostNetwork(a.Name, log.Add);
        var vip = IpAddress.Parse("203.0.113.10");

        host.AddRoute(vip, 32, devA);
        host.AddRoute(vip, 32, devA, replace: true); // exists: replace does not fail, and is one undo step
        Assert.Equal(["route 203.0.113.10/32 dev " + devA], host.PendingUndo);
        host.RemoveRoute(vip, 32, devA);
        Assert.DoesNotContain("203.0.113.10", a.Exec("route", "show"));
        Assert.Empty(host.PendingUndo); // taken back: nothing to undo (it used to record adding it back)

        host.RemoveRoute(IpAddress.Parse("198.51.100.0"), 24, devA);
        Assert.DoesNotContain("198.51.100.0/24", a.Exec("route", "show"));
        Assert.Equal(["removal of route 198.51.100.0/24 dev " + devA], host.PendingUndo);
        host.Undo();
        Assert.Contains("198.51.100.0/24 dev " + devA, a.Exec("route", "show"));
    }

    [Fact]
    public void ProxyNeighbour_AddedAndRemoved_AndUndone()
    {
        using var a = new TestNetns();
        using var b = new TestNetns();
        var (devA, _) = TestNetns.CreateVethPair(a, "192.0.2.1/24", b, "192.0.2.2/24");
        using (var host = new HostNetwork(a.Name))
        {
            host.AddProxyNeighbour(IpAddress.Parse("192.0.2.50"), devA);
            host.AddProxyNeighbour(IpAddress.Parse("192.0.2.51"), devA);
            Assert.Contains("192.0.2.50 dev " + devA, a.Exec("neigh", "show", "proxy"));
            host.RemoveProxyNeighbour(IpAddress.Parse("192.0.2.50"), devA);
            Assert.DoesNotContain("192.0.2.50", a.Exec("neigh", "show", "proxy"));
            Assert.Equal(["proxy neighbour 192.0.2.51 dev " + devA], host.PendingUndo);
        }
        Assert.DoesNotContain("192.0.2.51", a.Exec("neigh", "show", "proxy"));
    }

    [Fact]
    public void Addresses_FromIpJson()
    {
        using var a = new TestNetns();
        using var b = new TestNetns();
        var (devA, _) = TestNetns.CreateVethPair(a, "192.0.2.1/24", b, "192.0.2.2/24");
        a.Exec("addr", "add", "198.18.0.1", "peer", "198.18.0.2/32", "dev", devA);
        var all = new HostNetwork(a.Name).Addresses();
        Assert.Contains(new InterfaceAddress("lo", IpAddress.Parse("127.0.0.1"), 8), all);
        Assert.Contains(new InterfaceAddress(devA, IpAddress.Parse("192.0.2.1"), 24), all);
        Assert.Contains(new InterfaceAddress(devA, IpAddress.Parse("198.18.0.1"), 32, IpAddress.Parse("198.18.0.2")), all);
    }

    [Fact]
    public void InterfaceAddress_ParsesIpJson_SkippingEmptyEntries()
    {
        const string json = """
            [{"ifindex":1,"ifname":"lo","addr_info":[{"family":"inet","local":"127.0.0.1","prefixlen":8},{}]},
             {"ifindex":5,"ifname":"eth0","addr_info":[{"family":"inet6","local":"2001:db8::1","prefixlen":64},
                                                        {"family":"inet","local":"198.18.0.1","address":"198.18.0.2","prefixlen":32}]},
             {"ifindex":6,"ifname":"eth1"}]
            """;
        Assert.Equal(
            [
                new InterfaceAddress("lo", IpAddress.Parse("127.0.0.1"), 8),
                new InterfaceAddress("eth0", IpAddress.Parse("2001:db8::1"), 64),
                new InterfaceAddress("eth0", IpAddress.Parse("198.18.0.1"), 32, IpAddress.Parse("198.18.0.2")),
            ],
            InterfaceAddress.ParseIpJson(json));
    }

    [Fact]
    public void IpErrors_CarryStderr_AndAreNotRecorded()
    {
        using var ns = new TestNetns();
        using var host = new HostNetwork(ns.Name);
        var e = Assert.Throws<HostNetworkException>(() => host.AddAddress("nosuchdev0", IpAddress.Parse("198.51.100.9"), 32));
        Assert.Contains("ip -n " + ns.Name + " addr add 198.51.100.9/32 dev nosuchdev0", e.Message);
        Assert.Contains("Cannot find device", e.Message);
        Assert.Empty(host.PendingUndo);
    }

    [Fact]
    public void Undo_ContinuesPastFailures()
    {
        using var ns = new TestNetns();
        var host = new HostNetwork(ns.Name);
        host.WriteSysctl("net.ipv4.ip_forward", "1");
        host.AddAddress("lo", IpAddress.Parse("198.51.100.9"), 32);
        ns.Exec("addr", "del", "198.51.100.9/32", "dev", "lo"); // someone else removed it

        var e = Assert.Throws<AggregateException>(host.Undo);
        Assert.Single(e.InnerExceptions);
        Assert.Equal("0", host.ReadSysctl("net.ipv4.ip_forward")); // the older step still ran
        host.Undo();
    }

    [Fact]
    public void SysctlPath_MapsDotsAndSlashes()
    {
        Assert.Equal("/proc/sys/net/ipv4/ip_forward", HostNetwork.SysctlPath("net.ipv4.ip_forward"));
        Assert.Equal("/proc/sys/net/ipv4/conf/eth0.100/rp_filter", HostNetwork.SysctlPath("net.ipv4.conf.eth0/100.rp_filter"));
        Assert.Equal("/proc/sys/x", HostNetwork.SysctlPath("/proc/sys/x"));
    }

    [Fact]
    public void NetworkNamespace_Run_PropagatesExceptionsAndIsolatesSockets()
    {
        using var ns = new TestNetns();
        var e = Assert.Throws<NativeErrorException>(() => NetworkNamespace.Run("tlbt-does-not-exist", () => { }));
        Assert.Equal(Interop.ENOENT, e.Errno);

        // A socket opened in the namespace cannot bind an address that exists only there... and vice versa.
        ns.Exec("addr", "add", "198.18.0.9/32", "dev", "lo");
        ns.Run(() =>
        {
            using var s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            s.Bind(new IPEndPoint(IPAddress.Parse("198.18.0.9"), 0));
        });
        using var outside = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        Assert.Throws<SocketException>(() => outside.Bind(new IPEndPoint(IPAddress.Parse("198.18.0.9"), 0)));
    }
}
