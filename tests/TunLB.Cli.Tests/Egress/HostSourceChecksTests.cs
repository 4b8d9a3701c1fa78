using TunLB.Cli.Egress;

namespace TunLB.Cli.Tests.Egress;

public class HostSourceChecksTests
{
    [Fact]
    public void Rp_filter_is_the_maximum_of_all_and_the_interface()
    {
        var c = HostSourceChecks.Evaluate(new Dictionary<string, int> { ["all"] = 0, ["default"] = 1, ["lo"] = 0, ["tunl0"] = 1, ["eth0"] = 2 }, "", null);
        var rp = c.Single(x => x.Name.Contains("rp_filter"));
        Assert.True(rp.IsSet);
        Assert.Equal("all=0; effective: eth0=2 (loose), tunl0=1 (strict)", rp.Found);
        var all = HostSourceChecks.Evaluate(new Dictionary<string, int> { ["all"] = 1, ["lo"] = 0 }, "", null).Single(x => x.Name.Contains("rp_filter"));
        Assert.Equal("all=1; effective: lo=1 (strict)", all.Found);
        var off = HostSourceChecks.Evaluate(new Dictionary<string, int> { ["all"] = 0, ["eth0"] = 0 }, "", null).Single(x => x.Name.Contains("rp_filter"));
        Assert.False(off.IsSet);
        Assert.Null(HostSourceChecks.Evaluate(null, null, null).Single(x => x.Name.Contains("rp_filter")).IsSet);
    }

    [Fact]
    public void Nftables_fib_saddr_and_rpfilter_rules_are_found()
    {
        const string ruleset = """
            table inet filter {
                chain prerouting {
                    type filter hook prerouting priority raw; policy accept;
                    fib saddr . iif oif missing drop
                }
            }
            table ip6 mangle {
                chain PREROUTING {
                    xt match "rpfilter" counter drop
                }
            }
            """;
        var nft = HostSourceChecks.Evaluate(null, ruleset, null).Single(x => x.Name.StartsWith("nftables"));
        Assert.True(nft.IsSet);
        Assert.Contains("fib saddr . iif oif missing drop", nft.Found);
        Assert.Contains("rpfilter", nft.Found);
        Assert.False(HostSourceChecks.Evaluate(null, "table ip t {\n}\n", null).Single(x => x.Name.StartsWith("nftables")).IsSet);
    }

    [Fact]
    public void Firewalld_ipv6_rpfilter_defaults_to_on()
    {
        Assert.True(HostSourceChecks.Evaluate(null, null, "# nothing\n").Single(x => x.Name.StartsWith("firewalld")).IsSet);
        Assert.False(HostSourceChecks.Evaluate(null, null, "IPv6_rpfilter=no\n").Single(x => x.Name.StartsWith("firewalld")).IsSet);
        Assert.False(HostSourceChecks.Evaluate(null, null, null).Single(x => x.Name.StartsWith("firewalld")).IsSet);
        var text = HostSourceChecks.Text(HostSourceChecks.Evaluate(new Dictionary<string, int> { ["all"] = 1 }, null, "IPv6_rpfilter=yes"));
        Assert.Contains("net.ipv4.conf.*.rp_filter: SET", text);
        Assert.Contains("firewalld IPv6_rpfilter: SET: IPv6_rpfilter=yes", text);
    }
}
