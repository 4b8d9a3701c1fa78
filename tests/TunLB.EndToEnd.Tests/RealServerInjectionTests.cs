using TunLB.Lab;
using TunLB.Linux;

namespace TunLB.EndToEnd.Tests;

/// <summary>
/// [realserver] napi and rps: how the agent's TUN device hands injected packets to the stack, and that the host is left
/// as it was on exit. The device is created beforehand as a persistent TUN device, so it outlives the agent and its
/// settings can be read after the agent stopped.
/// </summary>
public sealed class RealServerInjectionTests : IDisposable
{
    private readonly Topology _t = new(Topology.NewPrefix());
    private readonly string _dir = Directory.CreateTempSubdirectory("tunlb-e2e-").FullName;

    public void Dispose()
    {
        _t.Dispose();
        try { Directory.Delete(_dir, true); } catch { }
    }

    private string Sys(string file) => _t.Exec("r", "cat", $"/sys/class/net/tunlb-rs0/{file}").Trim();
    private string RpsCpus() => Sys("queues/rx-0/rps_cpus").TrimStart('0', ',');

    private void PersistentDevice()
    {
        _t.Host("r");
        _t.Exec("r", "ip", "tuntap", "add", "dev", "tunlb-rs0", "mode", "tun");
        Assert.Equal("0", Sys("threaded"));
        Assert.Equal("", RpsCpus());   // the kernel's defaults: no NAPI thread, no steering
    }

    private BackgroundProcess StartAgent(string label, string lines, params string[] pin)
    {
        var cfg = Path.Combine(_dir, label + ".toml");
        File.WriteAllText(cfg, StandardLab.RealServerConfig() + "\n" + lines + "\n");
        string[] args = [.. pin, Tunlb.Command()[0], "realserver", "--config", cfg];
        var a = _t.Start("r", label, args[0], args[1..]);
        Assert.True(a.WaitForOutput(LabServices.AgentReady, 20_000), a.Output);
        return a;
    }

    private void StopAndCheckTheDeviceIsAsBefore(BackgroundProcess a, string rpsBefore = "")
    {
        Assert.Equal(0, a.Stop(15));
        Assert.Equal("0", Sys("threaded"));
        Assert.Equal(rpsBefore, RpsCpus());
        Assert.DoesNotContain(StandardLab.Vip, _t.Exec("r", "ip", "-o", "addr", "show", "dev", "tunlb-rs0"));
    }

    [Fact]
    public void ThreadedNapiRunsThePollInAKernelThreadAndByDefaultBothAreOff()
    {
        PersistentDevice();
        var a = StartAgent("agent-napi", "napi = \"threaded\"");
        Assert.Equal("1", Sys("threaded"));
        Assert.Equal("", RpsCpus());
        Assert.Contains("NAPI on tunlb-rs0 threaded", a.Output);
        Assert.Contains("RPS on tunlb-rs0 off", a.Output);
        // The kernel thread exists while the agent runs.
        Assert.Contains("napi/tunlb-rs0-", _t.Exec("r", "ps", "-eo", "comm"));
        StopAndCheckTheDeviceIsAsBefore(a);

        var off = StartAgent("agent-napi-off", "");                 // the default
        Assert.Equal("0", Sys("threaded"));
        Assert.Contains("NAPI on tunlb-rs0 off (napi = \"off\")", off.Output);
        StopAndCheckTheDeviceIsAsBefore(off);
    }

    [Fact]
    public void RpsAutoSteersToTheCpusTheAgentIsNotPinnedToAndLeavesAnOperatorsMaskAlone()
    {
        PersistentDevice();
        bool multi = Environment.ProcessorCount >= 2;
        // Pinned to CPU 0, "auto" steers to every other CPU (on one CPU it steers nowhere and says so).
        var a = StartAgent("agent-rps", "rps = \"auto\"", "taskset", "-c", "0");
        int n = Environment.ProcessorCount;   // every CPU but 0, as sysfs prints it (leading zero groups trimmed)
        string expected = !multi ? "" : n <= 32 ? ((1L << n) - 2).ToString("x") : RpsSteering.Mask(Enumerable.Range(1, n - 1));
        Assert.Equal(expected, RpsCpus());
        Assert.Contains(multi ? $"rps_cpus={expected}" : "off (one CPU)", a.Output);
        StopAndCheckTheDeviceIsAsBefore(a);

        _t.Exec("r", "sh", "-c", "echo 1 > /sys/class/net/tunlb-rs0/queues/rx-0/rps_cpus");
        var set = StartAgent("agent-rps-set", "rps = \"auto\"");
        Assert.Contains("RPS on tunlb-rs0 left at rps_cpus=", set.Output);
        Assert.Equal("1", RpsCpus());
        StopAndCheckTheDeviceIsAsBefore(set, "1");
    }
}
