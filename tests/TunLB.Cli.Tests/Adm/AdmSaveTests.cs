using TunLB.Cli.Adm;
using TunLB.Control.Api;

namespace TunLB.Cli.Tests.Adm;

// -S follows ipvsadm 1.31's rule format: "-A %s -s %s" + " -p %u" + " -M mask" (persistent, mask not the
// whole address) + " -b flags"; reals via print_tunnel_rule: "-a %s -r %s -i -w %d --tun-type ipip",
// or "... --tun-type gue --tun-port %d --tun-nocsum|--tun-csum|--tun-remcsum". TunLB appends -x/-y when set.
public class AdmSaveTests
{
    [Fact]
    public void Save_matches_ipvsadm_rule_format() =>
        Assert.Equal(AdmSamples.Save, AdmSave.Format(AdmSamples.Table));

    [Fact]
    public void Save_plain_service()
    {
        var svc = new ServiceDto("tcp", "203.0.113.10", 80, "wlc", [], 0, "255.255.255.255", 0,
            new StatsDto(0, 0, 0, 0, 0), new RatesDto(0, 0, 0, 0, 0), [AdmSamples.Real("192.0.2.11", 80, 1)]);
        Assert.Equal(
            "-A -t 203.0.113.10:80 -s wlc\n" +
            "-a -t 203.0.113.10:80 -r 192.0.2.11:80 -i -w 1 --tun-type ipip\n",
            AdmSave.Format([svc]));
    }

    [Fact]
    public void Save_persistent_without_mask()
    {
        var svc = AdmSamples.Https with { Scheduler = "rr", Flags = [], PersistenceNetmask = "255.255.255.255", Reals = [] };
        Assert.Equal("-A -t 203.0.113.10:443 -s rr -p 600\n", AdmSave.Format([svc]));
    }

    [Fact]
    public void Save_then_parse_gives_the_same_requests()
    {
        var services = AdmSamples.Table;
        var lines = AdmSave.Format(services).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var requests = lines.Select(l =>
        {
            var (r, e) = AdmParser.Parse(AdmCommand.SplitLine(l));
            Assert.True(e is null, $"{l}: {e?.Message}");
            return r!;
        }).ToList();

        var expected = new List<object>();
        foreach (var s in AdmFormatter.Sorted(services, AdmListFormat.None))
        {
            expected.Add(new ServiceSpec(s.Protocol, s.Vip, s.Port, s.Scheduler,
                AdmFormatter.SchedFlags(s.Scheduler, s.Flags).Split(',', StringSplitOptions.RemoveEmptyEntries),
                s.Persistence, s.PersistenceNetmask));
            foreach (var r in AdmFormatter.Sorted(s.Reals, AdmListFormat.None))
                expected.Add(new RealSpec(r.Address, r.Port, r.Weight, r.UpperThreshold, r.LowerThreshold, r.TunType,
                    r.TunType == "gue" ? r.TunPort : null, r.TunType == "gue" ? r.TunFlags : null));
        }

        var actual = requests.Select<AdmRequest, object>(r => r.Command switch
        {
            AdmCommandKind.AddService => AdmSpecs.Service(r, create: true),
            AdmCommandKind.AddServer => AdmSpecs.Real(r, create: true),
            _ => throw new Xunit.Sdk.XunitException($"unexpected command {r.Command}"),
        }).ToList();

        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
            Assert.Equal(Json(expected[i]), Json(actual[i]));

        // And the services' targets: each -a line names the service of the -A line before it.
        var adds = requests.Where(r => r.Command == AdmCommandKind.AddServer).Select(r => r.Service!.Vip + ":" + r.Service.Port);
        Assert.All(adds, a => Assert.Contains(a, new[] { "203.0.113.10:80", "203.0.113.10:443", "2001:db8::10:53" }));
    }

    private static string Json(object o) => System.Text.Json.JsonSerializer.Serialize(o, o.GetType(), ApiJson.Options);
}
