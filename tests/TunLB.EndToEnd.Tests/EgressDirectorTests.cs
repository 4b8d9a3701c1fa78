using System.Text.Json;
using TunLB.Lab;

namespace TunLB.EndToEnd.Tests;

/// <summary>
/// The egress check against a running TunLB director (not `egress-listen`): the director's data plane records
/// the ICMP answers to VIP-sourced probes and serves them on its API.
/// </summary>
public sealed class EgressDirectorTests : IDisposable
{
    private const string Token = "egress-e2e-token";
    private readonly StandardLab _lab;
    private readonly string _work;

    public EgressDirectorTests()
    {
        var prefix = Topology.NewPrefix();
        _work = Path.Combine(Path.GetTempPath(), prefix + "egd");
        _lab = StandardLab.Build(prefix);
        try
        {
            var svc = new LabServices(_lab, Tunlb.Command(), _work);
            svc.StartRealServers(http: false);
            // Each real server's datacenter as its site metadata (shown with egress results).
            var cfg = StandardLab.DirectorConfig("rr")
                .Replace("api = \"127.0.0.1:9400\"", $"api = \"{StandardLab.DirectorAddress}:9400\"\napi_token = \"{Token}\"");
            foreach (var r in StandardLab.RealServers)
                cfg = cfg.Replace($"address = \"{r.Address}\"\n", $"address = \"{r.Address}\"\nsite = \"{r.Datacenter}\"\nprovider = \"Lab {r.Datacenter}\"\n");
            svc.StartDirector(cfg);
        }
        catch
        {
            _lab.Topology.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        _lab.Topology.Dispose();
        try { Directory.Delete(_work, true); } catch { }
    }

    private Sh.Result Check(string role) => _lab.Topology.Try(role, 60_000, Tunlb.Command()[0], "egress-check",
        "--vip", StandardLab.Vip, "--target", StandardLab.ClientAddress,
        "--listener", $"http://{StandardLab.DirectorAddress}:9400", "--token", Token);

    [Fact]
    public void AllowedThenBlockedAtTheDatacenterEdgeWithTheRightRouter()
    {
        var open = Check("rs1");
        Assert.True(open.ExitCode == 0, open.Stdout + open.Stderr);
        Assert.Contains("ALLOWED", open.Stdout);

        // dc1 becomes a BCP38 provider: it drops packets from its LAN whose source is not its customer prefix.
        var rules = Path.Combine(_work, "bcp38.nft");
        File.WriteAllText(rules, """
            table ip tunlb_e2e_bcp38 {
              chain forward_filter {
                type filter hook forward priority 0; policy accept;
                iifname "br0" ip saddr != 192.0.2.0/25 counter drop
              }
            }
            """);
        _lab.Topology.Exec("dc1", "nft", "-f", rules);
        var blocked = Check("rs1");
        Assert.True(blocked.ExitCode == 1, blocked.Stdout + blocked.Stderr);
        // The filter sits in dc1's forward path: dc1 still answers the TTL-1 VIP probe itself (its time-exceeded is
        // generated locally, not forwarded), so the VIP series dies after hop 1 and the control series shows the next
        // router, the internet router's address toward dc1. traceroute -s VIP shows the same: hop 1, then stars.
        Assert.Contains("BLOCKED AT HOP 2 (198.18.1.1)", blocked.Stdout);

        // rs3 sits behind dc2, which does not filter: still allowed.
        var other = Check("rs3");
        Assert.True(other.ExitCode == 0, other.Stdout + other.Stderr);
    }

    [Fact]
    public void Results_posted_by_egress_check_are_served_per_real_with_site_provider_and_time()
    {
        var rs1 = StandardLab.RealServers.Single(r => r.Role == "rs1");
        var before = Egress();
        Assert.All(before, x => Assert.Null(Str(x, "verdict")));
        Assert.Equal(StandardLab.RealServers.Select(r => r.Address).Distinct().Count(), before.Count);

        var posted = _lab.Topology.Try("rs1", 60_000, Tunlb.Command()[0], "egress-check", "--vip", StandardLab.Vip, "--target", StandardLab.ClientAddress,
            "--listener", $"http://{StandardLab.DirectorAddress}:9400", "--token", Token, "--post", "--real", rs1.Address);
        Assert.True(posted.ExitCode == 0, posted.Stdout + posted.Stderr);
        Assert.DoesNotContain("could not report", posted.Stderr);

        var mine = Egress().Single(x => x.GetProperty("real").GetString() == rs1.Address);
        Assert.Equal(rs1.Datacenter, mine.GetProperty("site").GetString());
        Assert.Equal($"Lab {rs1.Datacenter}", mine.GetProperty("provider").GetString());
        Assert.Equal("allowed", mine.GetProperty("verdict").GetString());
        Assert.StartsWith("ALLOWED", mine.GetProperty("summary").GetString());
        Assert.True(DateTimeOffset.UtcNow - mine.GetProperty("received_at").GetDateTimeOffset() < TimeSpan.FromMinutes(2));
        // The others have no result yet.
        Assert.All(Egress().Where(x => x.GetProperty("real").GetString() != rs1.Address), x => Assert.Null(Str(x, "verdict")));
    }

    /// <summary>A string property, null when absent or null (the API omits null fields).</summary>
    private static string? Str(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? v.GetString() : null;

    private List<JsonElement> Egress()
    {
        var r = _lab.Topology.Try("client", 20_000, "curl", "-sf", "-H", $"Authorization: Bearer {Token}", $"http://{StandardLab.DirectorAddress}:9400/api/v1/egress");
        Assert.True(r.ExitCode == 0, r.Stderr);
        return JsonDocument.Parse(r.Stdout).RootElement.EnumerateArray().Select(e => e.Clone()).ToList();
    }
}
