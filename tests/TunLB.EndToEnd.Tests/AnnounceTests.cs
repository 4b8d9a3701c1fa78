using System.Diagnostics;
using TunLB.Lab;
using Xunit.Abstractions;

namespace TunLB.EndToEnd.Tests;

/// <summary>
/// A director with announce = true in a namespace (docs/multi-director.md): its route for the VIP in table 100 comes
/// and goes with the health of its real server, the API drain and the process itself (SIGKILL, SIGTERM). The real
/// server is a plain TCP listener in a second namespace, checked directly (via = "direct").
/// </summary>
public sealed class AnnounceTests(ITestOutputHelper output) : IDisposable
{
    private const string Vip = "203.0.113.10";
    private const string RealAddress = "192.0.2.11";
    private const int Grace = 2;

    private readonly Topology _t = new(Topology.NewPrefix());
    private readonly string _dir = Directory.CreateTempSubdirectory("tunlb-e2e-announce-").FullName;
    private BackgroundProcess? _listener;

    public void Dispose()
    {
        _t.Dispose();
        try { Directory.Delete(_dir, true); } catch { }
    }

    private static string Config => $$"""
        [director]
        api = "127.0.0.1:9400"
        announce = true
        withdraw_grace = {{Grace}}

        [[service]]
        vip = "{{Vip}}"
        port = 80
        scheduler = "mh"

        [service.check]
        type = "tcp"
        via = "direct"
        interval = 0.5
        timeout = 0.3
        rise = 1
        fall = 1

        [[service.real]]
        address = "{{RealAddress}}"
        """;

    private const string Listener =
        "import socket\n" +
        "s=socket.socket(); s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1); s.bind(('" + RealAddress + "',80)); s.listen(64)\n" +
        "print('listening',flush=True)\n" +
        "while True:\n c,_=s.accept(); c.close()\n";

    /// <summary>Director "d" (192.0.2.2) and real server "r" (192.0.2.11) on one link; the director started and ready.</summary>
    private BackgroundProcess StartDirector()
    {
        _t.Host("d", router: true);
        _t.Host("r");
        _t.Link("d", "eth0", "192.0.2.2/24", "r", "eth0", RealAddress + "/24");
        StartListener();
        var cfg = Path.Combine(_dir, "director.toml");
        File.WriteAllText(cfg, Config);
        var d = _t.Start("d", "director", Tunlb.Command()[0], "director", "--config", cfg);
        Assert.True(d.WaitForOutput(LabServices.DirectorReady, LabServices.StartTimeoutMs), d.Output);
        Assert.Contains("announcing in table 100", d.Output);
        return d;
    }

    private void StartListener()
    {
        _listener = _t.Start("r", $"listener-{Environment.TickCount64}", "python3", "-u", "-c", Listener);
        Assert.True(_listener.WaitForOutput("listening", LabServices.StartTimeoutMs), _listener.Output);
    }

    private string Table100() => _t.Exec("d", "ip", "route", "show", "table", "100");

    private bool Announced() => Table100().Contains($"{Vip} dev tunlb0", StringComparison.Ordinal);

    /// <summary>Polls every 20 ms until <paramref name="want"/> holds; returns the milliseconds it took, or -1.</summary>
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

    private string Api(params string[] args) =>
        _t.Exec("d", ["curl", "-s", "--max-time", "10", .. args.Select(a => a.StartsWith('/') ? "http://127.0.0.1:9400" + a : a)]);

    [Fact]
    public void VipIsAnnouncedWhileServableAndWithdrawnOnFailedChecksAndDrain()
    {
        var d = StartDirector();
        Assert.True(Until(Announced, 10_000) >= 0, Table100() + d.Output);
        Assert.Contains(Vip, Api("/api/v1/director"));

        // A segment of a flow this director never saw (another director had it): adopted and forwarded, not dropped.
        _t.Exec("r", "ip", "route", "add", Vip + "/32", "via", "192.0.2.2");
        _t.Exec("r", "/usr/bin/python3", "-c",
            $"from scapy.all import IP,TCP,send; send(IP(src='{RealAddress}',dst='{Vip}')/TCP(sport=40000,dport=80,flags='A',seq=1000,ack=2000), verbose=0)");
        Assert.True(Until(() => Api("/api/v1/services").Contains("\"adopted\": 1", StringComparison.Ordinal), 5_000) >= 0, Api("/api/v1/services"));
        Assert.Contains("ESTABLISHED", Api("/api/v1/connections"));

        // The only real server fails its check: nothing can serve the VIP.
        _listener!.Stop(9, 2000);
        Assert.True(Until(() => !Announced(), 10_000) >= 0, Table100() + d.Output);
        Assert.True(d.WaitForOutput($"{Vip} withheld", 5_000), d.Output);
        StartListener();
        Assert.True(Until(Announced, 10_000) >= 0, Table100() + d.Output);

        // Drain through the API: withdrawn while the data plane goes on (the main table's route stays).
        var drained = Api("-X", "POST", "/api/v1/director/drain");
        Assert.Contains("\"drained\": true", drained);
        Assert.True(Until(() => !Announced(), 5_000) >= 0, Table100() + d.Output);
        Assert.Contains($"{Vip} dev tunlb0", _t.Exec("d", "ip", "route", "show"));
        Assert.Contains("director drained", Api("/api/v1/director"));
        Assert.Contains("tunlb_director_drained 1", Api("/metrics"));
        Assert.Contains("\"drained\": false", Api("-X", "DELETE", "/api/v1/director/drain"));
        Assert.True(Until(Announced, 5_000) >= 0, Table100() + d.Output);
        Assert.Contains($"tunlb_vip_announced{{vip=\"{Vip}\"}} 1", Api("/metrics"));

        Assert.Equal(0, d.Stop(15));
        Assert.False(Announced());
    }

    [Fact]
    public void SigkillRemovesTheRouteWithinOneSecond()
    {
        var d = StartDirector();
        Assert.True(Until(Announced, 10_000) >= 0, Table100() + d.Output);
        var sw = Stopwatch.StartNew();
        Sh.Run("kill", ["-9", d.Pid.ToString()]);
        long gone = Until(() => !Announced(), 5_000);
        Assert.True(gone >= 0, Table100());
        output.WriteLine($"route left table 100 {sw.ElapsedMilliseconds} ms after SIGKILL");
        Assert.True(sw.ElapsedMilliseconds < 1000, $"route left table 100 after {sw.ElapsedMilliseconds} ms");
        Assert.DoesNotContain("tunlb0", _t.Exec("d", "ip", "-o", "link", "show"));
        Tunlb.ForgetJournal(d.Pid);
    }

    [Fact]
    public void SigtermWithdrawsFirstThenStopsAfterTheGrace()
    {
        var d = StartDirector();
        Assert.True(Until(Announced, 10_000) >= 0, Table100() + d.Output);
        var sw = Stopwatch.StartNew();
        Sh.Run("kill", ["-15", d.Pid.ToString()]);
        Assert.True(Until(() => !Announced(), 2_000) >= 0, Table100() + d.Output);
        long withdrawnAt = sw.ElapsedMilliseconds;
        // Still forwarding: the process runs and the VIP still reaches the capture device.
        Assert.False(d.HasExited, d.Output);
        Assert.Contains($"{Vip} dev tunlb0", _t.Exec("d", "ip", "route", "show"));
        Assert.True(Until(() => d.HasExited, 20_000) >= 0, d.Output);
        long exitedAt = sw.ElapsedMilliseconds;
        output.WriteLine($"SIGTERM: withdrawn after {withdrawnAt} ms, exited after {exitedAt} ms (withdraw_grace = {Grace} s)");
        Assert.Equal(0, d.ExitCode);
        Assert.True(withdrawnAt < 1000, $"withdrawn after {withdrawnAt} ms");
        Assert.True(exitedAt >= Grace * 1000, $"exited after {exitedAt} ms, before withdraw_grace = {Grace} s");
        Assert.Contains("withdrew 1 VIP(s)", d.Output);
        Assert.Contains("host setup removed", d.Output);
    }
}
