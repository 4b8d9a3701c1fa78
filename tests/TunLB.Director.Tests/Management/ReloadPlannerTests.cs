using TunLB.Control.Configuration;
using TunLB.Core.Flows;
using TunLB.Core.Model;
using TunLB.Core.Packets;
using TunLB.Director.Management;
using static TunLB.Director.Tests.Fixtures;

namespace TunLB.Director.Tests.Management;

/// <summary>The reload diff as a pure function: running services + new file in, plan out. No state, no I/O.</summary>
public sealed class ReloadPlannerTests
{
    private static readonly ServiceKey Web = new(IpAddress.Parse(Vip), 80, IpProtocol.Tcp);
    private static readonly ServiceKey Dns = new(IpAddress.Parse(Vip), 53, IpProtocol.Udp);

    private static CurrentReal Real(string a, int weight = 1) =>
        new(IpAddress.Parse(a), a.EndsWith(".21", StringComparison.Ordinal) ? (ushort)53 : (ushort)80, weight, 0, 0, EncapKind.Ipip, Tunnel.DefaultGuePort, false);

    /// <summary>What runs after loading <see cref="Fixtures.Basic"/>.</summary>
    private static List<CurrentService> Running() =>
    [
        new(Web, "rr", [], 65537, 0, 32, [Real("192.0.2.11"), Real("192.0.2.12")]),
        new(Dns, "mh", ["mh-port"], 251, 0, 32, [Real("192.0.2.21", 2)]),
    ];

    [Fact]
    public void TheSameFileChangesNothing()
    {
        var plan = ReloadPlanner.Plan(Running(), Parse(Basic).Director, Parse(Basic));
        Assert.Empty(plan.DeletedServices);
        Assert.Empty(plan.Notes);
        Assert.All(plan.Services, s =>
        {
            Assert.False(s.IsNew);
            Assert.False(s.SetChanged);
            Assert.False(s.SchedulerChanged);
            Assert.Empty(s.ServiceChanges);
            Assert.Empty(s.DeletedReals);
            Assert.All(s.Reals, r => Assert.Empty(r.Changes));
        });
        Assert.Empty(plan.NewReals);
    }

    [Fact]
    public void KeptRealsAreMatchedByAddressAndPortAndOnlyTheirDifferencesListed()
    {
        var next = Basic.Replace("address = \"192.0.2.12\"", "address = \"192.0.2.13\"")
                        .Replace("address = \"192.0.2.11\"", "address = \"192.0.2.11\"\nweight = 4\nupper_threshold = 100");
        var plan = ReloadPlanner.Plan(Running(), Parse(Basic).Director, Parse(next));
        var web = plan.Services.Single(s => s.Config.Key == Web);
        Assert.True(web.SetChanged);
        Assert.False(web.SchedulerChanged);
        var kept = web.Reals.Single(r => r.Definition.Address == IpAddress.Parse("192.0.2.11"));
        Assert.False(kept.IsNew);
        Assert.True(kept.WeightChanged);
        Assert.True(kept.ThresholdsChanged);
        Assert.False(kept.TunnelChanged);
        Assert.Equal(["real 192.0.2.11:80 weight 1 -> 4", "real 192.0.2.11:80 thresholds 0/0 -> 100/0"], kept.Changes);
        Assert.True(web.Reals.Single(r => r.Definition.Address == IpAddress.Parse("192.0.2.13")).IsNew);
        Assert.Equal([(IpAddress.Parse("192.0.2.12"), (ushort)80)], web.DeletedReals);
        Assert.Equal([IpAddress.Parse("192.0.2.13")], plan.NewReals.Select(r => r.Address));

        var dns = plan.Services.Single(s => s.Config.Key == Dns);
        Assert.False(dns.SetChanged);
        Assert.Empty(dns.ServiceChanges);
    }

    [Fact]
    public void SchedulerPersistenceServicesAndRestartOnlyKeysAreReported()
    {
        var next = Basic.Replace("scheduler = \"rr\"", "scheduler = \"wrr\"\npersistence = 60")
                        .Replace("conn_max = 1000", "conn_max = 2000\ntimeout_udp = 30");
        int cut = next.IndexOf("[[service]]\nvip = \"203.0.113.10\"\nport = 53", StringComparison.Ordinal);
        var plan = ReloadPlanner.Plan(Running(), Parse(Basic).Director, Parse(next[..cut]));
        Assert.Equal([Dns], plan.DeletedServices);
        var web = plan.Services.Single();
        Assert.True(web.SchedulerChanged);
        Assert.Equal(["scheduler rr -> wrr", "persistence 0 -> 60"], web.ServiceChanges);
        Assert.Equal((900, 120, 30), plan.Timeouts);
        Assert.Contains(plan.Notes, n => n.StartsWith("conn_max changed (1000 -> 2000) but needs a restart", StringComparison.Ordinal));
    }

    [Fact]
    public void ANewServiceIsNewWithAllItsReals()
    {
        var next = Basic + "\n[[service]]\nvip = \"203.0.113.11\"\nport = 443\nprotocol = \"tcp\"\n\n[[service.real]]\naddress = \"192.0.2.31\"\n";
        var plan = ReloadPlanner.Plan(Running(), Parse(Basic).Director, Parse(next));
        var added = plan.Services.Single(s => s.IsNew);
        Assert.Equal(443, added.Config.Key.Port);
        Assert.True(added.Reals.Single().IsNew);
        Assert.Contains(plan.NewReals, r => r.Address == IpAddress.Parse("192.0.2.31") && r.Line > 0);
    }
}
