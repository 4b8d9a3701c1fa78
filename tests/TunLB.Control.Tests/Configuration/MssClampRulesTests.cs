using System.Diagnostics;
using TunLB.Control.Configuration;
using TunLB.Core.Flows;

namespace TunLB.Control.Tests.Configuration;

public class MssClampRulesTests
{
    private static readonly IpAddress[] Vips = [IpAddress.Parse("203.0.113.10"), IpAddress.Parse("203.0.113.11"), IpAddress.Parse("2001:db8::10")];

    [Fact]
    public void Off_renders_nothing() => Assert.Null(MssClampRules.Render(Vips, 0));

    [Fact]
    public void Fixed_mss_is_lowered_only_and_20_bytes_less_for_ipv6()
    {
        var text = MssClampRules.Render(Vips, 1360)!;
        Assert.Contains("type filter hook output priority mangle; policy accept;", text);
        Assert.Contains("ip saddr { 203.0.113.10, 203.0.113.11 } tcp flags & (syn | ack) == (syn | ack) tcp option maxseg size > 1360 tcp option maxseg size set 1360", text);
        Assert.Contains("ip6 saddr { 2001:db8::10 } tcp flags & (syn | ack) == (syn | ack) tcp option maxseg size > 1340 tcp option maxseg size set 1340", text);
    }

    [Fact]
    public void Auto_clamps_to_the_route_mtu()
    {
        var text = MssClampRules.Render(Vips.Take(1), RealServerConfig.MssClampAuto)!;
        Assert.Contains("tcp option maxseg size set rt mtu", text);
        Assert.DoesNotContain("ip6", text);
    }

    [Theory]
    [InlineData(1360)]
    [InlineData(RealServerConfig.MssClampAuto)]
    public void Nft_accepts_the_ruleset(int mss)
    {
        // Syntax check by nft itself (check mode, nothing is applied); skipped where nft or the privilege is missing.
        if (!File.Exists("/usr/sbin/nft") || Environment.UserName != "root") return;
        var psi = new ProcessStartInfo("/usr/sbin/nft", ["-c", "-f", "-"]) { RedirectStandardInput = true, RedirectStandardError = true, UseShellExecute = false };
        using var p = Process.Start(psi)!;
        p.StandardInput.Write(MssClampRules.Render(Vips, mss));
        p.StandardInput.Close();
        string err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, err);
    }
}
