using TunLB.Lab;

namespace TunLB.EndToEnd.Tests;

/// <summary>Start-up, clean-up and configuration errors of the daemons, each in its own namespace.</summary>
public sealed class LifecycleTests : IDisposable
{
    private readonly Topology _t = new(Topology.NewPrefix());
    private readonly string _dir = Directory.CreateTempSubdirectory("tunlb-e2e-").FullName;

    public void Dispose()
    {
        _t.Dispose();
        try { Directory.Delete(_dir, true); } catch { }
    }

    private string Write(string name, string text)
    {
        var p = Path.Combine(_dir, name);
        File.WriteAllText(p, text);
        return p;
    }

    [Fact]
    public void DirectorSetsUpCaptureAndRemovesEverythingOnSigterm()
    {
        _t.Host("d");
        _t.Link("d", "eth0", "203.0.113.2/29", "d", "peer", "203.0.113.3/29");
        _t.DefaultRoute("d", "203.0.113.3");
        var cfg = Write("director.toml", StandardLab.DirectorConfig("wlc"));
        var d = _t.Start("d", "director", Tunlb.Command()[0], "director", "--config", cfg);
        Assert.True(d.WaitForOutput(LabServices.DirectorReady, LabServices.StartTimeoutMs), d.Output);

        Assert.Contains("tunlb0", _t.Exec("d", "ip", "-o", "link", "show"));
        Assert.Contains($"{StandardLab.Vip} dev tunlb0", _t.Exec("d", "ip", "route", "show"));
        Assert.Equal("1", _t.Exec("d", "cat", "/proc/sys/net/ipv4/ip_forward").Trim());

        Assert.Equal(0, d.Stop(15));
        Assert.Contains("stopped", d.Output);
        Assert.DoesNotContain("tunlb0", _t.Exec("d", "ip", "-o", "link", "show"));
        Assert.DoesNotContain(StandardLab.Vip, _t.Exec("d", "ip", "route", "show"));
        Assert.Equal("0", _t.Exec("d", "cat", "/proc/sys/net/ipv4/ip_forward").Trim());
    }

    [Fact]
    public void RealServerAgentSetsVipAndRpFilterAndRemovesThemOnSigint()
    {
        _t.Host("r");
        var cfg = Write("rs.toml", StandardLab.RealServerConfig());
        var a = _t.Start("r", "agent", Tunlb.Command()[0], "realserver", "--config", cfg);
        Assert.True(a.WaitForOutput(LabServices.AgentReady, LabServices.StartTimeoutMs), a.Output);
        Assert.Contains("rp_filter", a.Output);
        Assert.Contains($"{StandardLab.Vip}/32", _t.Exec("r", "ip", "-o", "addr", "show", "dev", "tunlb-rs0"));

        Assert.Equal(0, a.Stop(2));
        Assert.DoesNotContain("tunlb-rs0", _t.Exec("r", "ip", "-o", "link", "show"));
    }

    [Fact]
    public void StopSignalsArrivingDuringShutdownAreHarmless()
    {
        // Issue #14: a signal handled while the stop path disposed its wait handle aborted the process with an
        // unhandled ObjectDisposedException, leaving the host setup behind; a second SIGTERM could kill it mid-cleanup.
        _t.Host("r");
        var cfg = Write("rs-twice.toml", StandardLab.RealServerConfig());
        var a = _t.Start("r", "agent-twice", Tunlb.Command()[0], "realserver", "--config", cfg);
        Assert.True(a.WaitForOutput(LabServices.AgentReady, LabServices.StartTimeoutMs), a.Output);
        for (int i = 0; i < 5; i++) Sh.Run("kill", ["-TERM", a.Pid.ToString()]);
        Assert.Equal(0, a.Stop(15));
        Assert.Contains("stopped on SIGTERM", a.Output);
        Assert.DoesNotContain("Unhandled exception", a.Output);
        Assert.DoesNotContain("tunlb-rs0", _t.Exec("r", "ip", "-o", "link", "show"));
    }

    [Fact]
    public void RealServerAgentTellsSystemdReadyAndStopping()
    {
        _t.Host("n");
        var cfg = Write("rs.toml", StandardLab.RealServerConfig());
        var sockPath = Path.Combine(_dir, "notify.sock");
        using var sock = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Dgram, System.Net.Sockets.ProtocolType.Unspecified);
        sock.Bind(new System.Net.Sockets.UnixDomainSocketEndPoint(sockPath));
        sock.ReceiveTimeout = LabServices.StartTimeoutMs;
        using var a = BackgroundProcess.Start("agent-notify", "ip",
            ["netns", "exec", _t.Ns("n"), Tunlb.Command()[0], "realserver", "--config", cfg],
            new Dictionary<string, string> { ["NOTIFY_SOCKET"] = sockPath });
        var buf = new byte[4096];
        string Next() => System.Text.Encoding.UTF8.GetString(buf, 0, sock.Receive(buf));

        Assert.Contains("READY=1", Next());
        Assert.True(a.WaitForOutput(LabServices.AgentReady, LabServices.StartTimeoutMs), a.Output);
        Assert.Equal(0, a.Stop(15));
        Assert.Contains("STOPPING=1", Next());
    }

    [Fact]
    public void BadDirectorConfigNamesFileLineAndKeyAndChangesNothing()
    {
        _t.Host("b");
        var cfg = Write("bad.toml", """
            [director]
            api = "127.0.0.1:9400"

            [[service]]
            vip = "203.0.113.10"
            port = 80
            protocol = "tcp"
            scheduler = "rr"

            [[service.real]]
            address = "192.0.2.11"
            wieght = 1
            """);
        var r = _t.Try("b", 30_000, Tunlb.Command()[0], "director", "--config", cfg);
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains($"{cfg}:12", r.Stderr);
        Assert.Contains("wieght", r.Stderr);
        Assert.DoesNotContain("tunlb0", _t.Exec("b", "ip", "-o", "link", "show"));
        Assert.Equal("0", _t.Exec("b", "cat", "/proc/sys/net/ipv4/ip_forward").Trim());
    }

    [Fact]
    public void PrintKernelSetupShowsTunl0ArpAndRpFilterAndTheSourceFilter()
    {
        var cfg = Write("rs.toml", StandardLab.RealServerConfig());
        var r = Sh.Run(Tunlb.Command()[0], ["realserver", "--print-kernel-setup", "--config", cfg]);
        Assert.Equal(0, r.ExitCode);
        Assert.Contains($"ip addr add {StandardLab.Vip}/32 dev tunl0", r.Stdout);
        Assert.Contains("arp_ignore=1", r.Stdout);
        Assert.Contains("arp_announce=2", r.Stdout);
        Assert.Contains("rp_filter", r.Stdout);
        Assert.Contains(StandardLab.DirectorAddress, r.Stdout);
    }
}
