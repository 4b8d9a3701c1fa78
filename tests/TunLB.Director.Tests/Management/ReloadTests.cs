using TunLB.Control.Configuration;
using TunLB.Control.Api;
using TunLB.Core.Packets;
using TunLB.Director.Api;
using TunLB.Director.Management;
using static TunLB.Director.Tests.Fixtures;

namespace TunLB.Director.Tests.Management;

public sealed class ReloadTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tunlb-reload-").FullName;
    private string PathOf => System.IO.Path.Combine(_dir, "director.toml");

    public void Dispose()
    {
        try { Directory.Delete(_dir, true); } catch { }
    }

    private const string Next = """
        [director]
        api = "127.0.0.1:9400"
        conn_max = 1000
        timeout_udp = 60

        [[service]]
        vip = "203.0.113.10"
        port = 80
        protocol = "tcp"
        scheduler = "rr"

        [[service.real]]
        address = "192.0.2.11"
        weight = 4
        upper_threshold = 100

        [[service.real]]
        address = "192.0.2.13"

        [[service]]
        vip = "203.0.113.10"
        port = 53
        protocol = "udp"
        scheduler = "mh"
        scheduler_flags = ["mh-port"]
        mh_table_size = 251

        [[service.real]]
        address = "192.0.2.21"
        weight = 2

        [[service]]
        vip = "203.0.113.20"
        port = 443
        scheduler = "wlc"

        [[service.real]]
        address = "192.0.2.31"
        """;

    [Fact]
    public void ReloadKeepsDestinationsThatStayAndRebuildsOnlyWhatChanged()
    {
        File.WriteAllText(PathOf, Basic);
        var log = new List<string>();
        var s = NewState(Basic, PathOf, log);
        var web = s.Engine.Services.Values.Single(v => v.Key.Port == 80);
        var dns = s.Engine.Services.Values.Single(v => v.Key.Port == 53);
        var kept = web.Destinations.Single(d => d.Address.ToString() == "192.0.2.11");
        var removed = web.Destinations.Single(d => d.Address.ToString() == "192.0.2.12");
        var dnsScheduler = dns.Scheduler;
        var dnsDests = dns.Destinations;
        var webScheduler = web.Scheduler;

        // An established flow on the real server that stays, and one on the one that goes.
        ushort keptPort = 0, goPort = 0;
        for (ushort p = 40000; keptPort == 0 || goPort == 0; p++)
        {
            var (_, to) = Send(s, Syn(p));
            Send(s, Ack(p));
            if (to == "192.0.2.11" && keptPort == 0) keptPort = p;
            else if (to == "192.0.2.12" && goPort == 0) goPort = p;
        }
        long keptConns = kept.Connections;
        Assert.True(keptConns > 0);

        File.WriteAllText(PathOf, Next);
        var r = s.Reload();
        Assert.True(r.Ok, string.Join("\n", r.Errors));

        // A new version of the service (services are immutable), with its counters carried over; the real that stays is
        // the same object, its counters and flows kept; weight and threshold updated in place.
        var web2 = s.Engine.Services.Values.Single(v => v.Key.Port == 80);
        Assert.Same(web.Stats, web2.Stats);
        Assert.Same(kept, web2.Destinations.Single(d => d.Address.ToString() == "192.0.2.11"));
        Assert.Equal(keptConns, kept.Connections);
        Assert.Equal(4, kept.Weight);
        Assert.Equal(100, kept.UpperThreshold);
        Assert.True(kept.Alive);
        Assert.False(removed.Alive);
        // Same scheduler settings, but its real set changed: a new scheduler instance, built aside and published with it.
        Assert.NotSame(webScheduler, web2.Scheduler);
        Assert.Equal(webScheduler.Name, web2.Scheduler.Name);
        Assert.Equal((DropReason.None, "192.0.2.11"), Send(s, Ack(keptPort)));
        Assert.Equal(DropReason.DestinationGone, Send(s, Ack(goPort)).Verdict);

        // Unchanged service: untouched (the same published version: same scheduler, same destination array).
        var dns2 = s.Engine.Services.Values.Single(v => v.Key.Port == 53);
        Assert.Same(dns, dns2);
        Assert.Same(dnsScheduler, dns2.Scheduler);
        Assert.Same(dnsDests, dns2.Destinations);

        // New service live, with a route-worthy VIP.
        Assert.Contains(s.Vips, v => v.ToString() == "203.0.113.20");
        Assert.Equal(DropReason.None, Send(s, TestPackets.Tcp(Client, 40000, "203.0.113.20", 443, TcpFlags.Syn)).Verdict);
        Assert.Equal(new TimeoutsDto(900, 120, 60), ApiOf(s).GetTimeouts());

        Assert.Contains(r.Changes, c => c.Contains("192.0.2.11:80 weight 1 -> 4"));
        Assert.Contains(r.Changes, c => c.Contains("192.0.2.12:80 deleted"));
        Assert.Contains(r.Changes, c => c.Contains("192.0.2.13:80 added"));
        Assert.Contains(r.Changes, c => c.Contains("tcp 203.0.113.20:443 added"));
        Assert.DoesNotContain(r.Changes, c => c.Contains("udp 203.0.113.10:53"));
        Assert.Single(log, l => l.StartsWith("tunlb director: reloaded", StringComparison.Ordinal));
    }

    [Fact]
    public void SchedulerChangeReplacesOnlyThatServicesScheduler()
    {
        File.WriteAllText(PathOf, Basic);
        var s = NewState(Basic, PathOf);
        var web = s.Engine.Services.Values.Single(v => v.Key.Port == 80);
        var dns = s.Engine.Services.Values.Single(v => v.Key.Port == 53);
        var (webSched, dnsSched, webDests) = (web.Scheduler, dns.Scheduler, web.Destinations);
        File.WriteAllText(PathOf, Basic.Replace("scheduler = \"rr\"", "scheduler = \"wrr\""));
        Assert.True(s.Reload().Ok);
        var (web2, dns2) = (s.Engine.Services.Values.Single(v => v.Key.Port == 80), s.Engine.Services.Values.Single(v => v.Key.Port == 53));
        Assert.NotSame(webSched, web2.Scheduler);
        Assert.Equal("wrr", web2.Scheduler.Name);
        Assert.Same(webDests, web2.Destinations);
        Assert.Same(dnsSched, dns2.Scheduler);
    }

    [Fact]
    public void BadFileChangesNothingAndReportsEveryError()
    {
        File.WriteAllText(PathOf, Basic);
        var errors = new List<string>();
        var s = NewState(Basic, PathOf, errors: errors);
        ApiOf(s).EditReal("tcp", Vip, "80", "192.0.2.11", "80", new RealSpec(Weight: 7)); // a runtime change
        var before = ConfigRenderer.Render(s).Split('\n').Skip(2).ToArray();
        File.WriteAllText(PathOf, Next.Replace("weight = 4", "wieght = 4").Replace("scheduler = \"wlc\"", "scheduler = \"fifo\""));

        var r = s.Reload();
        Assert.False(r.Ok);
        Assert.Empty(r.Changes);
        Assert.Equal(2, r.Errors.Count);
        Assert.Contains(r.Errors, e => e.StartsWith($"{PathOf}:14:1: service[0].real[0].wieght: unknown key", StringComparison.Ordinal));
        Assert.Contains(r.Errors, e => e.Contains("service[2].scheduler"));
        Assert.Equal(before, ConfigRenderer.Render(s).Split('\n').Skip(2).ToArray());
        Assert.Equal(3, errors.Count); // a headline and one line per error
        Assert.Equal(1, s.ReloadsFailed);
        Assert.False(s.LastReloadOk);
    }

    [Fact]
    public void ReloadUndoesRuntimeChanges_TheFileWins()
    {
        File.WriteAllText(PathOf, Basic);
        var s = NewState(Basic, PathOf);
        ApiOf(s).AddService(new ServiceSpec("tcp", Vip, 8080));
        ApiOf(s).EditReal("tcp", Vip, "80", "192.0.2.11", "80", new RealSpec(Weight: 9));
        var r = s.Reload();
        Assert.True(r.Ok);
        Assert.Equal(2, ApiOf(s).ListServices().Count);
        Assert.Equal(1, ApiOf(s).GetService("tcp", Vip, "80").Reals.Single(x => x.Address == "192.0.2.11").Weight);
        Assert.Contains(r.Changes, c => c.Contains("tcp 203.0.113.10:8080 deleted"));
    }

    [Fact]
    public void RestartOnlySettingsAreReportedNotApplied()
    {
        File.WriteAllText(PathOf, Basic);
        var s = NewState(Basic, PathOf);
        File.WriteAllText(PathOf, Basic.Replace("conn_max = 1000", "conn_max = 2000"));
        var r = s.Reload();
        Assert.True(r.Ok);
        Assert.Contains(r.Changes, c => c.Contains("conn_max changed (1000 -> 2000) but needs a restart"));
        Assert.Equal(1000, s.Engine.Connections.Capacity);
        Assert.Equal(1000, s.Settings.ConnMax);
    }

    [Fact]
    public void CaptureBackendIsRestartOnlyAndRendered()
    {
        File.WriteAllText(PathOf, Basic);
        var s = NewState(Basic, PathOf);
        File.WriteAllText(PathOf, Basic.Replace("conn_max = 1000", "conn_max = 1000\nio = \"afpacket\"\ncapture_interfaces = [\"eth0\"]"));
        var r = s.Reload();
        Assert.True(r.Ok);
        Assert.Contains(r.Changes, c => c.Contains("io changed (tun -> afpacket) but needs a restart"));
        Assert.Contains(r.Changes, c => c.Contains("capture_interfaces changed ( -> eth0) but needs a restart"));
        Assert.Equal(IoBackend.Tun, s.Settings.Io);
        Assert.Contains("io = \"tun\"", ConfigRenderer.Render(s));
    }

    [Fact]
    public void UnroutableNewRealFailsTheWholeReload()
    {
        File.WriteAllText(PathOf, Basic);
        var s = new DirectorState(Parse(Basic, PathOf), new DirectorStateOptions
        {
            OuterSource = a => a.ToString() == "192.0.2.13" ? throw new InvalidOperationException("network unreachable") : DirectorAddress,
        });
        File.WriteAllText(PathOf, Next);
        var r = s.Reload();
        Assert.False(r.Ok);
        Assert.Contains("192.0.2.13", Assert.Single(r.Errors));
        Assert.Equal(2, ApiOf(s).ListServices().Count);
        Assert.Equal(1, ApiOf(s).GetService("tcp", Vip, "80").Reals[0].Weight);
    }
}
