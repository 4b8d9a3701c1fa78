namespace TunLB.Linux.Tests.Xdp;

/// <summary>The default xdp capture interfaces, from `ip -j` output as iproute2 6.1 prints it.</summary>
public sealed class XdpInterfacesTests
{
    private const string Links = """
        [{"ifindex":1,"ifname":"lo","link_type":"loopback"},
         {"ifindex":2,"ifname":"eth0","link_type":"ether"},
         {"ifindex":3,"ifname":"eth1","link_type":"ether"},
         {"ifindex":4,"ifname":"tunlb0","link_type":"none"},
         {"ifindex":5,"ifname":"ipip0","link_type":"ipip"},
         {"ifindex":6,"ifname":"eth2","link_type":"ether"},
         {"ifindex":7,"ifname":"eth3","link_type":"ether"}]
        """;

    [Fact]
    public void Ethernet_devices_with_a_unicast_route_other_than_lo_and_the_tun_device()
    {
        const string v4 = """
            [{"dst":"default","gateway":"203.0.113.1","dev":"eth0","flags":[]},
             {"dst":"203.0.113.0/29","dev":"eth0","protocol":"kernel","scope":"link","prefsrc":"203.0.113.2","flags":[]},
             {"dst":"203.0.113.10","dev":"tunlb0","scope":"link","flags":[]},
             {"dst":"198.18.0.0/15","dev":"ipip0","scope":"link","flags":[]},
             {"type":"blackhole","dst":"192.0.2.0/24","flags":[]},
             {"type":"multicast","dst":"224.0.0.0/4","dev":"eth3","flags":[]}]
            """;
        const string v6 = """
            [{"dst":"2001:db8::/64","dev":"eth1","protocol":"kernel","metric":256,"flags":[],"pref":"medium"},
             {"dst":"fe80::/64","dev":"eth2","protocol":"kernel","metric":256,"flags":[],"pref":"medium"}]
            """;
        Assert.Equal(["eth0", "eth1"], XdpInterfaces.Pick(v4, v6, Links, "tunlb0"));
    }

    [Fact]
    public void No_routes_no_interfaces() => Assert.Empty(XdpInterfaces.Pick("[]", "", Links, "tunlb0"));
}
