using System.Diagnostics;
using TunLB.Lab;
using Xunit.Abstractions;

namespace TunLB.EndToEnd.Tests;

/// <summary>
/// The shipped BIRD configs (dist/bird/director.conf and router.conf, unchanged) between a router namespace and a
/// director namespace: the router's kernel table gets the VIP route from the director's announcement over BGP, and
/// loses it when the director is killed with SIGKILL while its BIRD runs on. Needs bird2 (Debian package); without
/// it the test passes with a note.
/// </summary>
public sealed class AnnounceBirdTests(ITestOutputHelper output) : IDisposable
{
    private const string Vip = "203.0.113.10";
    private readonly Topology _t = new(Topology.NewPrefix());
    private readonly string _dir = Directory.CreateTempSubdirectory("tunlb-e2e-bird-").FullName;
    private readonly List<string> _sockets = new();

    public void Dispose()
    {
        foreach (var s in _sockets) Sh.Run("birdc", ["-s", s, "down"], 5_000);
        _t.Dispose(); // stops whatever is left (SIGTERM, then SIGKILL)
        try { Directory.Delete(_dir, true); } catch { }
    }

    private static string Config => $$"""
        [director]
        api = "127.0.0.1:9400"
        announce = true
        withdraw_grace = 0

        [[service]]
        vip = "{{Vip}}"
        port = 80
        scheduler = "mh"

        [service.check]
        type = "tcp"
        via = "direct"
        interval = 0.5
        timeout = 0.3

        [[service.real]]
        address = "192.0.2.1"
        """;

    private BackgroundProcess StartBird(string role, string conf)
    {
        string sock = Path.Combine(_dir, $"bird-{role}.ctl");
        _sockets.Add(sock);
        var p = _t.Start(role, $"bird-{role}", "bird", "-f", "-c", Path.Combine(Tunlb.RepoRoot(), "dist", "bird", conf),
            "-s", sock, "-P", Path.Combine(_dir, $"bird-{role}.pid"));
        return p;
    }

    private string RouterRoute() => _t.Exec("rt", "ip", "route", "show", Vip);

    private static long Until(Func<bool> want, int timeoutMs)
    {
        var sw = Stopwatch.StartNew();
        while (sw.ElapsedMilliseconds < timeoutMs)
        {
            if (want()) return sw.ElapsedMilliseconds;
            Thread.Sleep(20);
        }
        return want() ? sw.ElapsedMilliseconds : -1;
    }

    [Fact]
    public void RouterLearnsTheVipFromTheDirectorsBirdAndDropsItOnSigkill()
    {
        if (!Sh.Exists("bird"))
        {
            output.WriteLine("bird is not installed (apt-get install bird2): skipped");
            return;
        }
        // The addresses of the shipped configs: router 192.0.2.1, director 192.0.2.2. The router also serves as the
        // real server (a listener on 192.0.2.1:80 the director checks directly).
        _t.Host("rt", router: true);
        _t.Host("d", router: true);
        _t.Link("d", "eth0", "192.0.2.2/24", "rt", "eth0", "192.0.2.1/24");
        var web = _t.Start("rt", "listener", "python3", "-u", "-c",
            "import socket\ns=socket.socket(); s.bind(('192.0.2.1',80)); s.listen(64); print('listening',flush=True)\nwhile True:\n c,_=s.accept(); c.close()\n");
        Assert.True(web.WaitForOutput("listening", LabServices.StartTimeoutMs), web.Output);

        var routerBird = StartBird("rt", "router.conf");
        var directorBird = StartBird("d", "director.conf");
        var cfg = Path.Combine(_dir, "director.toml");
        File.WriteAllText(cfg, Config);
        var d = _t.Start("d", "director", Tunlb.Command()[0], "director", "--config", cfg);
        Assert.True(d.WaitForOutput(LabServices.DirectorReady, LabServices.StartTimeoutMs), d.Output);

        long learned = Until(() => RouterRoute().Contains("via 192.0.2.2", StringComparison.Ordinal), 60_000);
        Assert.True(learned >= 0, $"router: {RouterRoute()}\nrouter bird: {routerBird.Output}\ndirector bird: {directorBird.Output}\n{d.Output}");
        Assert.Contains("proto bird", RouterRoute());
        output.WriteLine($"router learned {Vip} {learned} ms after the director was ready");

        // When the router's kernel dropped the route, from `ip -ts monitor` (polling `ip route` costs a process start per
        // look, hundreds of ms on a loaded machine, which would be counted as the router's time).
        using var monitor = RouteMonitor.Start(_t, "rt", Vip);
        var at = DateTime.Now;
        var sw = Stopwatch.StartNew();
        d.Kill(); // SIGKILL without a process start
        Tunlb.ForgetJournal(d.Pid);   // the namespace goes with the test: nobody restarts in it
        long dropped = Until(() => !RouterRoute().Contains(Vip, StringComparison.Ordinal), 10_000);
        long ms = monitor.MsUntilDeleted(at);
        output.WriteLine($"router dropped {Vip} {ms} ms after SIGKILL of the director (ip monitor; seen by polling after {sw.ElapsedMilliseconds} ms; BIRD still running: {!directorBird.HasExited})");
        Assert.True(dropped >= 0, RouterRoute());
        Assert.False(directorBird.HasExited, directorBird.Output);
        Assert.True(ms >= 0, $"ip monitor saw no deletion of {Vip}: {string.Join("; ", monitor.Changes())}");
        Assert.True(ms < 1000, $"router dropped the VIP after {ms} ms");
    }
}
