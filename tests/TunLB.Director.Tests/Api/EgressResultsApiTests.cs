using TunLB.Control.Api;
using TunLB.Control.Egress;
using TunLB.Director.Api;
using static TunLB.Director.Tests.Fixtures;

namespace TunLB.Director.Tests.Api;

/// <summary>GET /api/v1/egress and POST /api/v1/egress/results over a director state (site/provider from the config).</summary>
public class EgressResultsApiTests
{
    private const string WithMetadata = """
        [director]
        api = "127.0.0.1:9400"

        [[service]]
        vip = "203.0.113.10"
        port = 80
        protocol = "tcp"

        [[service.real]]
        address = "192.0.2.11"
        site = "fra1"
        provider = "Hetzner"

        [[service.real]]
        address = "192.0.2.12"
        site = "ams1"
        provider = "AWS"

        [[service.real]]
        address = "192.0.2.13"
        """;

    private static readonly DateTimeOffset Now = new(2026, 12, 3, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Every_real_is_listed_with_its_site_and_provider_before_any_result()
    {
        var s = NewState(WithMetadata);
        var list = EgressResultsApi.Get(s);
        Assert.Equal(["192.0.2.12", "192.0.2.11", "192.0.2.13"], list.Select(x => x.Real)); // by site, unset last
        Assert.Equal(("ams1", "AWS"), (list[0].Site, list[0].Provider));
        Assert.All(list, x => Assert.Null(x.Verdict));
        Assert.Null(list[2].Site);
    }

    [Fact]
    public void A_posted_result_is_served_per_real_with_the_time()
    {
        var s = NewState(WithMetadata);
        var report = new EgressResultReport("192.0.2.11", "203.0.113.10", "198.51.100.10", "blocked", "BLOCKED AT HOP 1 (192.0.2.129)",
            1, "192.0.2.129", "the filter is at hop 1 (192.0.2.129) at the latest", Now.AddSeconds(-5));
        var (status, body) = EgressResultsApi.Post(s, report, Now);
        Assert.Equal(201, status);
        var item = Assert.IsType<EgressRealResult>(body);
        Assert.Equal(("fra1", "Hetzner", "blocked", 1), (item.Site, item.Provider, item.Verdict, item.BlockingHop));
        var got = EgressResultsApi.Get(s).Single(x => x.Real == "192.0.2.11");
        Assert.Equal(("BLOCKED AT HOP 1 (192.0.2.129)", Now.AddSeconds(-5), Now), (got.Summary, got.Time, got.ReceivedAt));
        // A newer result replaces it.
        EgressResultsApi.Post(s, report with { Verdict = "allowed", Summary = "ALLOWED (4 hops)", BlockingHop = null, BlockingRouter = null }, Now.AddMinutes(10));
        Assert.Equal("allowed", EgressResultsApi.Get(s).Single(x => x.Real == "192.0.2.11").Verdict);
        Assert.Equal(3, EgressResultsApi.Get(s).Count);
    }

    [Fact]
    public void Results_for_unknown_reals_or_with_bad_fields_are_refused_with_every_error()
    {
        var s = NewState(WithMetadata);
        var (status, body) = EgressResultsApi.Post(s, new EgressResultReport("192.0.2.99", "203.0.113.10", "198.51.100.10", "allowed", "ALLOWED (3 hops)"), Now);
        Assert.Equal(400, status);
        Assert.Equal("real", Assert.IsType<ErrorDto>(body).Field);
        (status, body) = EgressResultsApi.Post(s, new EgressResultReport("nope", "x", "198.51.100.10", "maybe", "", 300), Now);
        Assert.Equal(400, status);
        var details = Assert.IsType<ErrorDto>(body).Details!;
        foreach (var f in new[] { "real:", "vip:", "verdict:", "summary:", "blocking_hop:" }) Assert.Contains(details, d => d.StartsWith(f));
        Assert.Equal(400, EgressResultsApi.Post(s, null, Now).Status);
        Assert.All(EgressResultsApi.Get(s), x => Assert.Null(x.Verdict));
    }

    [Fact]
    public void Metadata_follows_a_reload_and_results_of_removed_reals_are_dropped()
    {
        var s = NewState(WithMetadata);
        EgressResultsApi.Post(s, new EgressResultReport("192.0.2.13", "203.0.113.10", "198.51.100.10", "allowed", "ALLOWED (3 hops)"), Now);
        var r = s.Apply(Parse(WithMetadata.Replace("site = \"fra1\"", "site = \"fra2\"").Replace("[[service.real]]\n    address = \"192.0.2.13\"", "")
            .Replace("\n[[service.real]]\naddress = \"192.0.2.13\"", "")));
        Assert.True(r.Ok, string.Join("\n", r.Errors ?? []));
        var list = EgressResultsApi.Get(s);
        Assert.Equal("fra2", list.Single(x => x.Real == "192.0.2.11").Site);
        Assert.DoesNotContain(list, x => x.Real == "192.0.2.13");
        Assert.Equal(400, EgressResultsApi.Post(s, new EgressResultReport("192.0.2.13", "203.0.113.10", "198.51.100.10", "allowed", "ALLOWED (3 hops)"), Now).Status);
    }

    [Fact]
    public void Rendered_config_keeps_site_and_provider()
    {
        var text = ConfigRenderer.Render(NewState(WithMetadata));
        Assert.Contains("address = \"192.0.2.11\"", text);
        Assert.Contains("site = \"fra1\"", text);
        Assert.Contains("provider = \"Hetzner\"", text);
        var again = Parse(text);
        Assert.Equal("ams1", again.Services[0].Reals.Single(r => r.Address.ToString() == "192.0.2.12").Site);
    }
}
