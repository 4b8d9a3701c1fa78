using TunLB.Control.Configuration;
using TunLB.Core.Flows;

namespace TunLB.RealServer.Tests;

/// <summary>`tunlb realserver --print-kernel-setup`: the kernel-IPIP script for a real-server config.</summary>
public sealed class KernelSetupTests
{
    private static RealServerConfig Config(string[] vips, string[] directors) =>
        new(vips.Select(IpAddress.Parse).ToList(), directors.Select(IpAddress.Parse).ToList(), RealServerConfig.DefaultTunName, "/etc/tunlb/realserver.toml");

    private static string[] Lines(string script) => script.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    [Fact]
    public void Ipv4_config_brings_up_tunl0_with_the_vips_arp_and_rp_filter_settings_and_a_source_filter()
    {
        var script = KernelSetup.Render(Config(["203.0.113.10", "203.0.113.11"], ["203.0.113.2", "203.0.113.3"]));
        var lines = Lines(script);

        Assert.Equal("# Kernel IPIP real-server setup equivalent to /etc/tunlb/realserver.toml", lines[0]);
        var commands = lines.Where(l => !l.StartsWith('#')).ToList();
        Assert.Equal(
        [
            "modprobe ipip",
            "ip link set tunl0 up",
            "ip addr add 203.0.113.10/32 dev tunl0",
            "ip addr add 203.0.113.11/32 dev tunl0",
            "sysctl -w net.ipv4.conf.all.arp_ignore=1",
            "sysctl -w net.ipv4.conf.all.arp_announce=2",
            "sysctl -w net.ipv4.conf.tunl0.arp_ignore=1",
            "sysctl -w net.ipv4.conf.tunl0.arp_announce=2",
            "sysctl -w net.ipv4.conf.tunl0.rp_filter=0",
            "sysctl -w net.ipv4.conf.all.rp_filter=0",
            "nft add table inet tunlb",
            "nft 'add chain inet tunlb input { type filter hook input priority 0; policy accept; }'",
            "nft add rule inet tunlb input ip protocol 4 ip saddr != { 203.0.113.2, 203.0.113.3 } counter drop",
        ], commands);
        Assert.Contains("CVE-2020-10136", script);
        Assert.DoesNotContain("sit (6in4)", script);
        Assert.DoesNotContain("fou", script);
        Assert.DoesNotContain("NFT", script);
    }

    [Fact]
    public void Without_an_ipv4_director_every_ipip_packet_is_dropped_and_ipv6_is_left_to_the_agent()
    {
        var script = KernelSetup.Render(Config(["203.0.113.10", "2001:db8::10"], ["2001:db8::2"]));
        Assert.Contains("nft add rule inet tunlb input ip protocol 4 counter drop\n", script);
        Assert.DoesNotContain("saddr", script);
        Assert.Contains("# IPv6 VIPs or directors: the kernel equivalents are sit (6in4) and ip6tnl (4in6 / 6in6) devices,", script);
    }

    [Fact]
    public void Gue_names_the_fou_receive_port()
    {
        var cfg = Config(["203.0.113.10"], ["203.0.113.2"]) with { Gue = true, GuePort = 6081 };
        Assert.Contains("ip fou add port 6081 gue", KernelSetup.Render(cfg));
    }

    [Theory]
    [InlineData(1400)]
    [InlineData(RealServerConfig.MssClampAuto)]
    public void Mss_clamp_appends_the_agents_nft_ruleset_as_a_here_document(int mss)
    {
        var cfg = Config(["203.0.113.10"], ["203.0.113.2"]) with { MssClamp = mss };
        var script = KernelSetup.Render(cfg);
        var rules = MssClampRules.Render(cfg.Vips, mss)!;
        Assert.EndsWith("nft -f - <<'NFT'\n" + rules + "NFT\n", script.ReplaceLineEndings("\n"));
    }
}
