using System.Text.Json;
using TunLB.Lab;
using Xunit.Abstractions;

namespace TunLB.EndToEnd.Tests;

/// <summary>
/// `tunlb egress-check` with an IPv6 VIP against `tunlb egress-listen` on the director, over IPv6 provider paths
/// (2001:db8::/32) that filter at the edge, one hop upstream or in the edge's forward chain, or a target that never
/// answers; each verdict is compared with the manual procedure (traceroute -6 -s VIP on the real server, tcpdump on
/// the director) on the same topology.
/// </summary>
public sealed class EgressCheckV6Tests(ITestOutputHelper log)
{
    private const string Token = "egress6-e2e-token";

    private EgressRun Check(EgressScenario scenario) =>
        EgressRuns.Check(log, prefix => EgressLab6.Build(prefix, scenario), Token, ["--provider", "aws"]);

    private static string S(JsonElement j, string name) => EgressRuns.S(j, name);

    private static bool ReachedTarget(string traceroute) => EgressRuns.ReachedTarget(traceroute, EgressLab6.Target);

    private static int RouterHop(string a) => a switch { EgressLab6.EdgeRouter => 1, EgressLab6.UpstreamRouter => 2, _ => 3 };

    [Fact]
    public void Open_provider_is_ALLOWED_and_the_target_answers_the_vip_in_the_manual_procedure_too()
    {
        var r = Check(EgressScenario.Open);
        Assert.Equal(0, r.ExitCode);
        Assert.Equal("allowed", S(r.Json, "verdict"));
        Assert.Equal(EgressLab6.ExpectedSummary(EgressScenario.Open), S(r.Json, "summary"));
        Assert.Equal(EgressLab6.TargetHop, r.Json.GetProperty("hops").GetInt32());
        Assert.Contains("port-unreachable", r.Listener);
        Assert.True(r.Manual.TargetAnsweredVip);
        Assert.Equal([EgressLab6.EdgeRouter, EgressLab6.UpstreamRouter, EgressLab6.InetRouter], r.Manual.RoutersSeen.OrderBy(RouterHop));
        Assert.True(ReachedTarget(r.Manual.OwnTraceroute), r.Manual.OwnTraceroute);
    }

    [Fact]
    public void Filter_at_the_edge_is_BLOCKED_AT_HOP_1_and_prints_the_provider_setting_and_host_checks()
    {
        var r = Check(EgressScenario.EdgeNftables);
        Assert.Equal(1, r.ExitCode);
        Assert.Equal($"BLOCKED AT HOP 1 ({EgressLab6.EdgeRouter})", S(r.Json, "summary"));
        Assert.Equal(EgressLab6.EdgeRouter, S(r.Json, "blocking_router"));
        Assert.Equal(0, r.Json.GetProperty("last_vip_hop").GetInt32());
        Assert.Contains($"{EgressLab6.Vip}/128", S(r.Json, "provider_request"));
        Assert.Contains("What to change at Amazon Web Services (EC2)", r.Text);
        Assert.Contains("source/destination check", r.Text);
        Assert.Contains("nftables fib saddr / rpfilter: not set", r.Text);
        Assert.Equal(0, r.Manual.IcmpToVip);
        Assert.True(ReachedTarget(r.Manual.OwnTraceroute), r.Manual.OwnTraceroute);
    }

    [Fact]
    public void Filter_one_hop_upstream_is_BLOCKED_AT_HOP_2_with_the_upstream_router()
    {
        var r = Check(EgressScenario.UpstreamNftables);
        Assert.Equal(1, r.ExitCode);
        Assert.Equal($"BLOCKED AT HOP 2 ({EgressLab6.UpstreamRouter})", S(r.Json, "summary"));
        Assert.Equal(1, r.Json.GetProperty("last_vip_hop").GetInt32());
        Assert.Equal(EgressLab6.EdgeRouter, S(r.Json, "last_vip_router"));
        Assert.DoesNotContain("What to change", r.Text); // not the provider's first hop
        Assert.Equal([EgressLab6.EdgeRouter], r.Manual.RoutersSeen);
        Assert.False(r.Manual.TargetAnsweredVip);
        Assert.True(ReachedTarget(r.Manual.OwnTraceroute), r.Manual.OwnTraceroute);
    }

    [Fact]
    public void Forward_path_filter_at_the_edge_names_both_candidates()
    {
        var r = Check(EgressScenario.EdgeForwardNftables);
        Assert.Equal(1, r.ExitCode);
        Assert.Equal(EgressLab6.ExpectedSummary(EgressScenario.EdgeForwardNftables), S(r.Json, "summary"));
        var c = r.Json.GetProperty("filter_candidates").EnumerateArray().Select(x => (x.GetProperty("hop").GetInt32(), S(x, "router"), S(x, "place"))).ToList();
        Assert.Equal([(1, EgressLab6.EdgeRouter, "forward-path"), (2, EgressLab6.UpstreamRouter, "input")], c);
        Assert.Contains("if it filters what it forwards", r.Text);
        Assert.Equal([EgressLab6.EdgeRouter], r.Manual.RoutersSeen);
        Assert.False(r.Manual.TargetAnsweredVip);
    }

    [Fact]
    public void Silent_target_is_INCONCLUSIVE()
    {
        var r = Check(EgressScenario.SilentTarget);
        Assert.Equal(2, r.ExitCode);
        Assert.Equal("INCONCLUSIVE", S(r.Json, "summary"));
        Assert.Equal(3, r.Json.GetProperty("last_vip_hop").GetInt32());
        Assert.False(r.Manual.TargetAnsweredVip);
        Assert.Equal(3, r.Manual.RoutersSeen.Count);
        Assert.False(ReachedTarget(r.Manual.OwnTraceroute), r.Manual.OwnTraceroute);
    }
}
