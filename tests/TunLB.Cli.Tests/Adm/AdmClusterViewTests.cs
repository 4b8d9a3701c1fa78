using TunLB.Cli.Adm;
using TunLB.Control.Api;
using static TunLB.Cli.Tests.Adm.AdmSamples;

namespace TunLB.Cli.Tests.Adm;

/// <summary>The fleet view's merge and disagreement logic (pure): <see cref="AdmClusterView"/>.</summary>
public class AdmClusterViewTests
{
    private const string Toml = """
        # TunLB director configuration, rendered at 12:00
        [director]
        api = "192.0.2.2:9400"

        [[service]]
        vip = "203.0.113.10"
        port = 80

        [[service.real]]
        address = "192.0.2.11"
        weight = 1
        """;

    private static HealthDto Health(string status, bool draining = false) =>
        new(status, "tcp :80 direct", "remove", 1, "ready", draining, false, false, false, status == "up", "", 0, null,
            DateTimeOffset.UnixEpoch, 0, 0);

    private static ServiceDto Svc(params RealDto[] reals) =>
        new("tcp", "203.0.113.10", 80, "mh", ["mh-port"], 0, "255.255.255.255", 65537, new(0, 0, 0, 0, 0), new(0, 0, 0, 0, 0), reals);

    private static RealDto R(string addr, int weight = 1, string status = "up", int act = 0, int inact = 0, bool draining = false) =>
        Real(addr, 80, weight, act, inact) with { Health = Health(status, draining) };

    private static DirectorStatusDto Announcing(params string[] vips) => new(true, 100, false, vips, new Dictionary<string, string>());

    private static ClusterSnapshot Dir(string name, ServiceDto[] services, DirectorStatusDto? status = null, string? toml = Toml) =>
        new(name, services, status ?? Announcing("203.0.113.10"), toml?.Replace("192.0.2.2", name));

    private static ServiceDto Standard => Svc(R("192.0.2.11", act: 3, inact: 1), R("192.0.2.12"), R("192.0.2.13"));

    [Fact]
    public void IdenticalDirectorsAgreeAndGetOneColumnEach()
    {
        var v = AdmClusterView.Merge([Dir("a", [Standard]), Dir("b", [Standard]), Dir("c", [Standard])]);
        Assert.Empty(v.Disagreements);
        var svc = Assert.Single(v.Services);
        Assert.Equal("TCP 203.0.113.10:80", svc.Label);
        Assert.Equal(["192.0.2.11", "192.0.2.12", "192.0.2.13"], svc.Reals.Select(r => r.Address));
        Assert.All(svc.Reals, r => Assert.Equal(3, r.Cells.Count));
        Assert.Equal(new ClusterCell("up", 1, 3, 1), svc.Reals[0].Cells[2]);
        // The [director] tables differ (each its own api address): that is not a config difference.
        Assert.Single(v.ConfigHashes.Distinct());
        Assert.Contains("The directors agree.", AdmClusterFormatter.Format(v));
    }

    [Fact]
    public void ARealOneDirectorSeesDownIsNamedWithWhoSeesWhat()
    {
        var down = Svc(R("192.0.2.11", act: 3, inact: 1), R("192.0.2.12"), R("192.0.2.13", status: "down"));
        var v = AdmClusterView.Merge([Dir("a", [Standard]), Dir("b", [Standard]), Dir("c", [down])]);
        Assert.Equal(["TCP 203.0.113.10:80 -> 192.0.2.13:80: state: up on a, b; down on c"], v.Disagreements);
    }

    [Fact]
    public void DifferentWeightsAndDrainAreNamed()
    {
        var other = Svc(R("192.0.2.11", weight: 3, act: 3, inact: 1), R("192.0.2.12", draining: true), R("192.0.2.13"));
        var v = AdmClusterView.Merge([Dir("a", [Standard]), Dir("b", [other])]);
        Assert.Contains("TCP 203.0.113.10:80 -> 192.0.2.11:80: weight: 1 on a; 3 on b", v.Disagreements);
        Assert.Contains("TCP 203.0.113.10:80 -> 192.0.2.12:80: state: up on a; up,drain on b", v.Disagreements);
    }

    [Fact]
    public void ServicesAndRealsPresentOnSomeDirectorsOnlyAreNamed()
    {
        var fewer = Svc(R("192.0.2.11", act: 3, inact: 1), R("192.0.2.12"));
        var v = AdmClusterView.Merge([Dir("a", [Standard, Https]), Dir("b", [fewer]), Dir("c", [Standard])]);
        Assert.Contains("TCP 203.0.113.10:443: only on a (not on b, c)", v.Disagreements);
        Assert.Contains("TCP 203.0.113.10:80 -> 192.0.2.13:80: only on a, c (not on b)", v.Disagreements);
        var https = v.Services.Single(s => s.Port == 443);
        Assert.Null(https.Schedulers[1]);
        Assert.Contains("(no such service)", AdmClusterFormatter.Format(v));
        Assert.Contains("(absent)", AdmClusterFormatter.Format(v));
    }

    [Fact]
    public void ADifferentSchedulerIsNamed()
    {
        var wlc = Standard with { Scheduler = "wlc", Flags = [] };
        var v = AdmClusterView.Merge([Dir("a", [Standard]), Dir("b", [wlc])]);
        Assert.Contains("TCP 203.0.113.10:80: scheduler: mh (mh-port) on a; wlc on b", v.Disagreements);
    }

    [Fact]
    public void AnUnreachableDirectorIsShownNotCompared()
    {
        var gone = new ClusterSnapshot("c", null, null, null, "Connection refused");
        var down = Svc(R("192.0.2.11", act: 3, inact: 1), R("192.0.2.12"), R("192.0.2.13", status: "down"));
        var v = AdmClusterView.Merge([Dir("a", [Standard]), gone, Dir("b", [down])]);
        Assert.Equal("c: unreachable (Connection refused); not compared", v.Disagreements[0]);
        // The unreachable one counts neither as missing a service nor as a third opinion.
        Assert.Equal(["c: unreachable (Connection refused); not compared", "TCP 203.0.113.10:80 -> 192.0.2.13:80: state: up on a; down on b"],
            v.Disagreements);
        Assert.All(v.Services[0].Reals, r => Assert.Null(r.Cells[1]));
        var text = AdmClusterFormatter.Format(v);
        Assert.Contains("c                        UNREACHABLE: Connection refused", text);
    }

    [Fact]
    public void NoDirectorAnsweringStillGivesAView()
    {
        var v = AdmClusterView.Merge([new ClusterSnapshot("a", null, null, null, "timeout"), new ClusterSnapshot("b", null, null, null, "refused")]);
        Assert.Empty(v.Services);
        Assert.Equal(2, v.Disagreements.Count);
    }

    [Fact]
    public void AVipWithheldByOneDirectorAndADrainedDirectorAreNamed()
    {
        var withheld = new DirectorStatusDto(true, 100, false, [], new Dictionary<string, string> { ["203.0.113.10"] = "tcp 203.0.113.10:80: no real server" });
        var drained = new DirectorStatusDto(true, 100, true, [], new Dictionary<string, string> { ["203.0.113.10"] = "director drained" });
        var v = AdmClusterView.Merge([Dir("a", [Standard]), Dir("b", [Standard], withheld), Dir("c", [Standard], drained)]);
        Assert.Contains("VIP 203.0.113.10: announced on a; withheld (tcp 203.0.113.10:80: no real server) on b; withheld (director drained) on c", v.Disagreements);
        Assert.Contains("c: drained (announces nothing)", v.Disagreements);
    }

    [Fact]
    public void ConfigsWhoseServicesDifferAreNamedByHash()
    {
        var changed = Toml.Replace("weight = 1", "weight = 2");
        var v = AdmClusterView.Merge([Dir("a", [Standard]), Dir("b", [Standard], toml: changed), Dir("c", [Standard])]);
        var note = Assert.Single(v.Disagreements);
        Assert.StartsWith("config (services of GET /api/v1/config.toml, sha256): ", note);
        Assert.Contains($"{v.ConfigHashes[0]} on a, c; {v.ConfigHashes[1]} on b", note);
        Assert.NotEqual(v.ConfigHashes[0], v.ConfigHashes[1]);
    }

    [Theory]
    [InlineData("# another comment line\n" + "[director]\napi = \"elsewhere:1\"\nannounce = true\n", true)]
    [InlineData("[director]\n[[service]]\nvip = \"203.0.113.11\"\n", false)]
    public void TheConfigHashIgnoresCommentsAndTheDirectorTableOnly(string prefix, bool same)
    {
        var baseline = AdmClusterView.ConfigHash(Toml);
        var other = AdmClusterView.ConfigHash(prefix + Toml[Toml.IndexOf("[[service]]", StringComparison.Ordinal)..]);
        Assert.Equal(same, baseline == other);
    }
}
