using TunLB.Cli.Egress;
using TunLB.Cli.Isp;
using TunLB.Core.Egress;
using TunLB.Core.Flows;

namespace TunLB.Cli.Tests.Egress;

/// <summary>The report's localisation lines, provider setup hint and host checks.</summary>
public class EgressReportHintsTests
{
    private static IpAddress IP(string s) => IpAddress.Parse(s);

    private static EgressAnswer At(string src, int ttl, string from, byte type = 11, byte code = 0) => new()
    {
        Tag = 1, Session = 1, HasSession = true, Ttl = (byte)ttl, Type = type, Code = code,
        From = IP(from), ProbeSource = IP(src), Target = IP("198.51.100.10"),
    };

    private static EgressResult Decide(params EgressAnswer[] a) =>
        EgressVerdict.Decide(IP("203.0.113.10"), IP("192.0.2.131"), IP("198.51.100.10"), a);

    private static readonly ProviderEntry Aws = new("Amazon Web Services (EC2)", ["AWS"], "cloud", ProviderSupport.Setting, ProviderSupport.Setting,
        "Disable the source/destination check", "d", ["https://docs.aws.amazon.com/x"], "2026-12-03, from a stored copy", 1);

    private static EgressCheckContext Ctx(ProviderEntry? p, string? name = null) =>
        new("203.0.113.10", "192.0.2.131", "198.51.100.10", "0123456789abcdef", 8, 2, 20, 10, 3, "http://203.0.113.2:9401", null, DateTimeOffset.UnixEpoch)
        {
            Provider = p, ProviderName = name ?? p?.Name,
            HostChecks = HostSourceChecks.Evaluate(new Dictionary<string, int> { ["all"] = 0, ["tunl0"] = 1 }, "", null),
        };

    [Fact]
    public void Blocked_at_hop_1_with_a_known_provider_prints_the_setting_and_its_source()
    {
        var r = Decide(At("192.0.2.131", 1, "192.0.2.129"), At("192.0.2.131", 2, "198.51.100.10", 3, 3));
        var text = EgressReport.Text(r, Ctx(Aws));
        Assert.Contains("What to change at Amazon Web Services (EC2)", text);
        Assert.Contains("Disable the source/destination check", text);
        Assert.Contains("source: https://docs.aws.amazon.com/x", text);
        Assert.Contains("net.ipv4.conf.*.rp_filter: SET: all=0; effective: tunl0=1 (strict)", text);
        var dto = EgressReport.ToDto(r, Ctx(Aws));
        Assert.Equal("Amazon Web Services (EC2)", dto.SetupHint!.Provider);
        Assert.Equal(["real-server", "input"], dto.FilterCandidates.Select(c => c.Place));
        Assert.True(dto.HostChecks!.Single(h => h.Name.Contains("rp_filter")).Set);
        // Unknown provider: said so, no hint.
        var unknown = EgressReport.Text(r, Ctx(null, "Nowhere Hosting"));
        Assert.Contains("no entry for provider \"Nowhere Hosting\"", unknown);
        Assert.DoesNotContain("What to change", unknown);
    }

    [Fact]
    public void Blocked_beyond_hop_1_names_both_candidates_and_gives_no_provider_setting()
    {
        var r = Decide(At("203.0.113.10", 1, "192.0.2.129"), At("192.0.2.131", 1, "192.0.2.129"), At("192.0.2.131", 2, "198.18.10.2"),
            At("192.0.2.131", 3, "198.51.100.10", 3, 3));
        var text = EgressReport.Text(r, Ctx(Aws));
        Assert.Contains("BLOCKED AT HOP 2 (198.18.10.2)", text);
        Assert.Contains("the filter is at or after hop 1 (192.0.2.129, the last router that answered VIP-sourced probes) and at or before hop 2 (198.18.10.2)", text);
        Assert.Contains("hop 1   192.0.2.129      if it filters what it forwards", text);
        Assert.Contains("hop 2   198.18.10.2      if it filters what it receives", text);
        Assert.DoesNotContain("What to change", text);
        Assert.Null(EgressReport.ToDto(r, Ctx(Aws)).SetupHint);
    }

    [Fact]
    public void Allowed_prints_host_checks_but_no_candidates()
    {
        var r = Decide(At("203.0.113.10", 2, "198.51.100.10", 3, 3));
        var text = EgressReport.Text(r, Ctx(Aws));
        Assert.StartsWith("ALLOWED", text.Split('\n').First(l => l.StartsWith("ALLOWED") || l.StartsWith("BLOCKED") || l.StartsWith("INCONCLUSIVE")));
        Assert.DoesNotContain("the filter is", text);
        Assert.Contains("The real server itself", text);
    }

    [Fact]
    public void Ipv6_vip_gets_a_128_bit_prefix_in_the_request()
    {
        var r = EgressVerdict.Decide(IP("2001:db8:10::10"), IP("2001:db8:1::131"), IP("2001:db8:100::10"),
        [
            new EgressAnswer { HasSession = true, Ttl = 1, Type = 3, From = IP("2001:db8:1::1"), ProbeSource = IP("2001:db8:1::131"), Target = IP("2001:db8:100::10") },
            new EgressAnswer { HasSession = true, Ttl = 2, Type = 1, Code = 4, From = IP("2001:db8:100::10"), ProbeSource = IP("2001:db8:1::131"), Target = IP("2001:db8:100::10") },
        ]);
        Assert.Equal("BLOCKED AT HOP 1 (2001:db8:1::1)", EgressReport.Summary(r));
        var ctx = new EgressCheckContext("2001:db8:10::10", "2001:db8:1::131", "2001:db8:100::10", "0123456789abcdef", 8, 2, 20, 10, 3, "http://[2001:db8::2]:9401", null, DateTimeOffset.UnixEpoch);
        Assert.Contains("2001:db8:10::10/128", EgressReport.ProviderRequest(r, ctx));
    }
}
