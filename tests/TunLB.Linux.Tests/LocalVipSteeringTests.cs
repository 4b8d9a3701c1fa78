using TunLB.Core.Flows;
using TunLB.Core.Model;

namespace TunLB.Linux.Tests;

/// <summary>The local-VIP steering's nft table, rules and route table, in a private namespace.</summary>
public sealed class LocalVipSteeringTests
{
    [Fact]
    public void Puts_the_mark_rule_right_before_lookup_local_follows_the_services_and_undoes_everything()
    {
        using var a = new TestNetns();
        string tun = "tv" + a.Name[5..];
        a.Exec("tuntap", "add", "mode", "tun", "name", tun);
        a.Exec("link", "set", tun, "up");
        a.Exec("addr", "add", "203.0.113.10/32", "dev", "lo");
        string rules4 = a.Exec("rule"), rules6 = a.Exec("-6", "rule");
        var log = new List<string>();
        var errors = new List<string>();
        a.Run(() =>
        {
            using var net = new HostNetwork();
            var steering = new LocalVipSteering(net, tun, log.Add, errors.Add);
            steering.Update(ServiceEndpoints.Empty);
            Assert.Equal(rules4, a.Exec("rule")); // nothing while no VIP is local
            Assert.DoesNotContain(steering.Table, Nftables.Command("list", "tables"));

            var vip = IpAddress.Parse("203.0.113.10");
            steering.Update(ServiceEndpoints.Of([new ServiceKey(vip, 80, 6), new ServiceKey(vip, 0, 17)]));
            var lines = a.Exec("rule").Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal("0:\tfrom all fwmark 0x540000/0x540000 lookup 21580", lines[0].Trim());
            Assert.Equal("0:\tfrom all lookup local", lines[1].Trim());
            Assert.Equal(3 + 1, lines.Length); // the bridge copy at priority 1 is gone again
            Assert.Equal(rules6, a.Exec("-6", "rule")); // no IPv6 VIP: IPv6 untouched
            Assert.Contains($"default dev {tun}", a.Exec("route", "show", "table", "21580"));
            string table = Nftables.Command("list", "table", "inet", steering.Table);
            Assert.Contains("203.0.113.10 . tcp . 80", table);
            Assert.Contains("203.0.113.10 . udp", table);
            Assert.Contains("type route hook output", table);

            steering.Update(ServiceEndpoints.Of([new ServiceKey(vip, 443, 6)]));
            table = Nftables.Command("list", "table", "inet", steering.Table);
            Assert.Contains("203.0.113.10 . tcp . 443", table);
            Assert.DoesNotContain(". 80", table);

            steering.Dispose();
            Assert.DoesNotContain(steering.Table, Nftables.Command("list", "tables"));
            net.Undo();
            Assert.Equal(rules4, a.Exec("rule"));
            var left = ExternalTool.Run("ip", ["route", "show", "table", "21580"]);
            Assert.DoesNotContain(tun, left.Stdout);
        });
        Assert.Empty(errors);
    }
}
