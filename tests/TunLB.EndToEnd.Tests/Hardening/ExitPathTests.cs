using TunLB.Lab;

namespace TunLB.EndToEnd.Tests.Hardening;

/// <summary>Every way the daemons end leaves the namespace as it was before they started (docs/robustness.md).</summary>
public sealed class ExitPathTests : IDisposable
{
    private readonly Topology _t = new(Topology.NewPrefix());
    private readonly string _dir = Directory.CreateTempSubdirectory("tunlb-exit-").FullName;

    public void Dispose()
    {
        _t.Dispose();
        try { Directory.Delete(_dir, true); } catch { }
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    [Theory]
    [InlineData("director", "sigint")]
    [InlineData("director", "sigterm-twice")]
    [InlineData("director", "sigterm-during-start")]
    [InlineData("director", "sigkill-then-restart")]
    [InlineData("realserver", "sigint")]
    [InlineData("realserver", "sigterm-twice")]
    [InlineData("realserver", "sigterm-during-start")]
    [InlineData("realserver", "sigkill-then-restart")]
    public void TheHostIsAsItWas(string daemon, string path)
    {
        _t.Host("h");
        _t.Link("h", "eth0", "203.0.113.2/29", "h", "peer", "203.0.113.3/29");
        _t.DefaultRoute("h", "203.0.113.3");
        string cfg = Path.Combine(_dir, daemon + ".toml");
        File.WriteAllText(cfg, daemon == "director"
            ? StandardLab.DirectorConfig("wlc").Replace("[director]", "[director]\nio = \"afpacket\"")   // nft table, ring, TUN
            : StandardLab.RealServerConfig() + "\nmss_clamp = 1400\n");                                    // nft table, TUN, sysctls
        HostSnapshot.WaitForDad(_t, "h");
        string before = HostSnapshot.Take(_t, "h");
        BackgroundProcess Start(string label) => _t.Start("h", label, Tunlb.Command()[0], daemon, "--config", cfg);

        // The whole ready line: a restart that undoes a dead daemon's journal also prints "already gone".
        string ready = daemon == "director" ? LabServices.DirectorReady : LabServices.AgentReady;
        var p = Start(daemon);
        switch (path)
        {
            case "sigint":
                Assert.True(p.WaitForOutput(ready, 20_000), p.Output);
                Assert.NotEqual(before, HostSnapshot.Take(_t, "h"));
                Assert.Equal(0, p.Stop(2, 15_000));
                break;
            case "sigterm-twice":
                Assert.True(p.WaitForOutput(ready, 20_000), p.Output);
                Sh.Run("kill", ["-TERM", p.Pid.ToString()]);
                Assert.Equal(0, p.Stop(15, 15_000));
                break;
            case "sigterm-during-start":
                // While it sets the host up: as soon as its TUN device exists, before it says ready.
                string dev = daemon == "director" ? "tunlb0" : "tunlb-rs0";
                var sw = System.Diagnostics.Stopwatch.StartNew();
                while (_t.Try("h", 5_000, "ip", "link", "show", "dev", dev).ExitCode != 0 && sw.ElapsedMilliseconds < 20_000) Thread.Sleep(5);
                Assert.Equal(0, Kill(p.Pid, 15));                      // at once: a kill(1) process would start too late
                p.Stop(15, 20_000);
                break;
            case "sigkill-then-restart":
                Assert.True(p.WaitForOutput(ready, 20_000), p.Output);
                Sh.Run("kill", ["-KILL", p.Pid.ToString()]);
                while (!p.HasExited) Thread.Sleep(20);
                var p2 = Start(daemon + "-2");
                Assert.True(p2.WaitForOutput(ready, 20_000), p2.Output);
                Assert.Contains($"removed what process {p.Pid} left", p2.Output);
                Assert.Equal(0, p2.Stop(15, 15_000));
                break;
        }
        Assert.DoesNotContain("Unhandled exception", p.Output);
        string after = HostSnapshot.Take(_t, "h");
        Assert.True(before == after, $"{path}:\n{HostSnapshot.Diff(before, after)}\n{p.Output}");
    }
}
