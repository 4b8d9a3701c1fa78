using System.Text.Json;
using TunLB.Lab;
using Xunit.Abstractions;

namespace TunLB.EndToEnd.Tests;

/// <summary>
/// `tunlb egress-check` on a real server against `tunlb egress-listen` on the director, over provider paths that filter
/// spoofed sources at the edge or one hop upstream, or a target that never answers; each verdict is compared with the
/// seed's manual procedure (traceroute -s VIP on the real server, tcpdump on the director) on the same topology.
/// Needs root and a tunlb with the egress commands registered (Program.cs).
/// </summary>
public sealed class EgressCheckTests(ITestOutputHelper log)
{
    private const string Token = "egress-e2e-token";

    private EgressRun Check(EgressScenario scenario)
    {
        var tunlb = Tunlb.Command();
        var help = Sh.Run(tunlb[0], [.. tunlb.Skip(1), "egress-check", "--help"]);
        Assert.True(help.ExitCode == 0 && help.Stdout.Contains("--listener"),
            $"{string.Join(' ', tunlb)} has no egress-check command: add the EgressCommands lines to src/TunLB.Cli/Program.cs");
        return EgressRuns.Check(log, prefix => EgressLab.Build(prefix, scenario), Token);
    }

    private static string S(JsonElement j, string name) => EgressRuns.S(j, name);

    [Fact]
    public void Open_provider_is_ALLOWED_and_the_target_answers_the_vip_in_the_manual_procedure_too()
    {
        var r = Check(EgressScenario.Open);
        Assert.Equal(0, r.ExitCode);
        Assert.Equal("allowed", S(r.Json, "verdict"));
        Assert.Equal(EgressLab.ExpectedSummary(EgressScenario.Open), S(r.Json, "summary"));
        Assert.Equal(EgressLab.TargetHop, r.Json.GetProperty("hops").GetInt32());
        Assert.Contains("port-unreachable", r.Listener);
        // Manual: the director sees port-unreachable from the target to the VIP, and time-exceeded from every router.
        Assert.True(r.Manual.TargetAnsweredVip);
        Assert.Equal([EgressLab.EdgeRouter, EgressLab.UpstreamRouter, EgressLab.InetRouter], r.Manual.RoutersSeen.OrderBy(RouterHop));
        Assert.True(ReachedTarget(r.Manual.OwnTraceroute), r.Manual.OwnTraceroute);
    }

    [Theory]
    [InlineData(EgressScenario.EdgeRpFilter)]
    [InlineData(EgressScenario.EdgeNftables)]
    public void Filter_at_the_edge_is_BLOCKED_AT_HOP_1_with_the_edge_router_and_nothing_reaches_the_director(EgressScenario scenario)
    {
        var r = Check(scenario);
        Assert.Equal(1, r.ExitCode);
        Assert.Equal("blocked", S(r.Json, "verdict"));
        Assert.Equal(1, r.Json.GetProperty("blocking_hop").GetInt32());
        Assert.Equal(EgressLab.EdgeRouter, S(r.Json, "blocking_router"));
        Assert.Equal($"BLOCKED AT HOP 1 ({EgressLab.EdgeRouter})", S(r.Json, "summary"));
        Assert.Equal(0, r.Json.GetProperty("last_vip_hop").GetInt32());
        Assert.Contains($"allow source address {EgressLab.Vip} from our server {EgressLab.RealServer}", S(r.Json, "provider_request"));
        // Manual: nothing at all comes back to the VIP, while the real server's own traceroute reaches the target.
        Assert.Equal(0, r.Manual.IcmpToVip);
        Assert.False(r.Manual.TargetAnsweredVip);
        Assert.True(ReachedTarget(r.Manual.OwnTraceroute), r.Manual.OwnTraceroute);
    }

    [Fact]
    public void Filter_one_hop_upstream_is_BLOCKED_AT_HOP_2_with_the_upstream_router()
    {
        var r = Check(EgressScenario.UpstreamNftables);
        Assert.Equal(1, r.ExitCode);
        Assert.Equal(2, r.Json.GetProperty("blocking_hop").GetInt32());
        Assert.Equal(EgressLab.UpstreamRouter, S(r.Json, "blocking_router"));
        Assert.Equal(1, r.Json.GetProperty("last_vip_hop").GetInt32());
        Assert.Equal(EgressLab.EdgeRouter, S(r.Json, "last_vip_router"));
        // Manual: the edge router's time-exceeded reaches the director, nothing from beyond it, no port-unreachable.
        Assert.Equal([EgressLab.EdgeRouter], r.Manual.RoutersSeen);
        Assert.False(r.Manual.TargetAnsweredVip);
        Assert.True(ReachedTarget(r.Manual.OwnTraceroute), r.Manual.OwnTraceroute);
    }

    [Fact]
    public void Forward_path_filter_at_the_edge_names_the_edge_and_the_next_hop()
    {
        var r = Check(EgressScenario.EdgeForwardNftables);
        Assert.Equal(1, r.ExitCode);
        Assert.Equal(EgressLab.ExpectedSummary(EgressScenario.EdgeForwardNftables), S(r.Json, "summary"));
        // The edge answered VIP probes expiring there (it received them) but forwarded none: both candidates are named.
        Assert.Equal(1, r.Json.GetProperty("last_vip_hop").GetInt32());
        var c = r.Json.GetProperty("filter_candidates").EnumerateArray().Select(x => (x.GetProperty("hop").GetInt32(), S(x, "router"), S(x, "place"))).ToList();
        Assert.Equal([(1, EgressLab.EdgeRouter, "forward-path"), (2, EgressLab.UpstreamRouter, "input")], c);
        Assert.Contains($"at or after hop 1 ({EgressLab.EdgeRouter}", S(r.Json, "filter_location"));
        Assert.Contains($"at or before hop 2 ({EgressLab.UpstreamRouter})", S(r.Json, "filter_location"));
        // Manual: the director sees the edge's time-exceeded only, exactly as for a filter at the upstream's input.
        Assert.Equal([EgressLab.EdgeRouter], r.Manual.RoutersSeen);
        Assert.False(r.Manual.TargetAnsweredVip);
        Assert.True(ReachedTarget(r.Manual.OwnTraceroute), r.Manual.OwnTraceroute);
    }

    [Fact]
    public void Silent_target_is_INCONCLUSIVE_where_the_manual_procedure_cannot_tell_it_from_a_block()
    {
        var r = Check(EgressScenario.SilentTarget);
        Assert.Equal(2, r.ExitCode);
        Assert.Equal("inconclusive", S(r.Json, "verdict"));
        Assert.Equal("INCONCLUSIVE", S(r.Json, "summary"));
        // VIP-sourced probes did get out (all routers answered them) ...
        Assert.Equal(3, r.Json.GetProperty("last_vip_hop").GetInt32());
        // ... and the manual procedure shows the same: routers answer the VIP, the target never does.
        Assert.False(r.Manual.TargetAnsweredVip);
        Assert.Equal(3, r.Manual.RoutersSeen.Count);
        Assert.False(ReachedTarget(r.Manual.OwnTraceroute), r.Manual.OwnTraceroute);
    }

    [Fact]
    public void Report_prints_a_provider_entry_and_text_output_names_the_hop()
    {
        var tunlb = Tunlb.Command();
        var prefix = Topology.NewPrefix();
        var lab = EgressLab.Build(prefix, EgressScenario.EdgeRpFilter);
        try
        {
            lab.StartListener(tunlb, Token);
            var r = lab.RunCheck(tunlb, Token, "--report", "--provider", "Example Hosting", "--place", "Lab, Nowhere");
            log.WriteLine(r.Stdout + r.Stderr);
            Assert.Equal(1, r.ExitCode);
            Assert.Contains($"BLOCKED AT HOP 1 ({EgressLab.EdgeRouter})", r.Stdout);
            Assert.Contains("[[isp]]\nname = \"Example Hosting\"\nstatus = \"refuses\"\nplace = \"Lab, Nowhere\"", r.Stdout);
            // A wrong token is refused by the listener: no verdict.
            var bad = lab.RunCheck(tunlb, "wrong");
            Assert.Equal(2, bad.ExitCode);
            Assert.Contains("401", bad.Stderr);
        }
        finally { lab.Topology.Dispose(); }
    }

    private static bool ReachedTarget(string traceroute) => EgressRuns.ReachedTarget(traceroute, EgressLab.Target);

    private static int RouterHop(string a) => a switch { EgressLab.EdgeRouter => 1, EgressLab.UpstreamRouter => 2, _ => 3 };
}
