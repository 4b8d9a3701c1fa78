using System.Text.RegularExpressions;
using TunLB.Lab;
using Xunit.Abstractions;

namespace TunLB.EndToEnd.Tests.Hardening;

/// <summary>
/// The director and the agents as user nobody with only the capabilities dist/systemd gives them (setpriv sets the
/// ambient and bounding sets as systemd's AmbientCapabilities= and CapabilityBoundingSet= do), passing traffic.
/// </summary>
public sealed class LeastPrivilegeTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("afpacket", "net_admin,net_raw", 0x3000L)]
    // CAP_PERFMON too: without it the verifier refuses the program's packet pointer arithmetic ("prohibited for !root").
    // And CAP_IPC_LOCK: the AF_XDP UMEM is locked memory, and this VM cannot raise RLIMIT_MEMLOCK (8 MiB; no
    // CAP_SYS_RESOURCE in its bounding set), which the unit does instead with LimitMEMLOCK=infinity.
    [InlineData("xdp", "net_admin,net_raw,bpf,perfmon,ipc_lock", 0xC000007000L)]
    public void DirectorAndAgentsRunAsNobodyWithOnlyTheirCapabilities(string io, string caps, long capMask)
    {
        using var lab = new HardeningLab();
        var t = lab.T;
        string run = Path.Combine(lab.WorkDir, "run");
        Directory.CreateDirectory(run);
        Sh.Ok("chown", "65534:65534", run);
        string rsConf = Path.Combine(lab.WorkDir, "realserver.toml");
        // With the xdp director the agents decapsulate in XDP too, with the unit's CAP_BPF and CAP_PERFMON on top.
        bool xdpDecap = io == "xdp";
        if (xdpDecap)
        {
            var plain = rsConf;
            rsConf = Path.Combine(lab.WorkDir, "realserver-xdp.toml");
            File.WriteAllText(rsConf, File.ReadAllText(plain) + "\ndecap = \"xdp\"\n");
        }
        foreach (var rs in StandardLab.RealServers)
        {
            Assert.Equal(0, lab.Services.Agents[rs.Role].Stop(15));
            var a = Unprivileged(t, rs.Role, "agent-nobody-" + rs.Role, xdpDecap ? "net_admin,net_raw,bpf,perfmon" : "net_admin,net_raw",
                run, "realserver", "--config", rsConf);
            Assert.True(a.WaitForOutput(LabServices.AgentReady, 30_000), a.Output);
            AssertRunsAs(a.Pid, xdpDecap ? 0xC000003000L : 0x3000L);
            if (xdpDecap) Assert.True(a.Output.Contains("IP-in-IP decapsulated by XDP"), a.Output);
        }
        string forward = t.Exec("director", "cat", "/proc/sys/net/ipv4/ip_forward").Trim();   // a router in the lab: 1
        File.WriteAllText(lab.ConfigPath, StandardLab.DirectorConfig("rr").Replace("[director]", $"[director]\nio = \"{io}\""));
        var d = Unprivileged(t, "director", "director-nobody", caps, run, "director", "--config", lab.ConfigPath);
        Assert.True(d.WaitForOutput(LabServices.DirectorReady, 30_000), d.Output);
        output.WriteLine(d.Output);
        AssertRunsAs(d.Pid, capMask);
        Assert.Contains(io == "xdp" ? "xdp" : "afpacket", d.Output);

        for (int i = 0; i < 6; i++)
        {
            var r = t.Try("client", 30_000, "curl", "-sf", "--max-time", "10", $"http://{StandardLab.Vip}/index.html");
            Assert.True(r.ExitCode == 0, r.Stderr + d.Output);
            Assert.Matches("^rs[123]$", r.Stdout.Trim());
        }
        Assert.Equal(0, d.Stop(15));
        Assert.DoesNotContain("tunlb0", t.Exec("director", "ip", "-o", "link", "show"));
        Assert.Equal(forward, t.Exec("director", "cat", "/proc/sys/net/ipv4/ip_forward").Trim());
    }

    // /dev/net/tun is 0600 on this VM (no udev, whose default rule makes it 0666): inside the private mount namespace of
    // `ip netns exec` a 0666 node is bound over it, so the host's node stays as it is.
    private static BackgroundProcess Unprivileged(Topology t, string role, string label, string caps, string runDir, params string[] args)
    {
        string plus = string.Join(',', caps.Split(',').Select(c => "+" + c));
        string dev = Path.Combine(runDir, "dev-" + label);
        Directory.CreateDirectory(dev);
        string cmd = string.Join(' ', new[] { Tunlb.Command()[0] }.Concat(args));
        string script = $"set -e; mount -t tmpfs tunlbdev {dev}; mknod -m 0666 {dev}/tun c 10 200; mount --bind {dev}/tun /dev/net/tun; " +
            $"exec env TUNLB_RUN_DIR={runDir} setpriv --reuid 65534 --regid 65534 --clear-groups --inh-caps -all,{plus} " +
            $"--ambient-caps -all,{plus} --bounding-set -all,{plus} --no-new-privs {cmd}";
        return t.Start(role, label, "sh", "-c", script);
    }

    // Uid nobody and exactly the given capabilities effective (/proc/PID/status, CapEff as a hex mask).
    private static void AssertRunsAs(int pid, long capMask)
    {
        var status = File.ReadAllText($"/proc/{pid}/status");
        Assert.Matches(@"Uid:\s+65534\s+65534\s+65534\s+65534", status);
        var eff = Regex.Match(status, @"CapEff:\s+([0-9a-f]+)").Groups[1].Value;
        Assert.Equal(capMask, Convert.ToInt64(eff, 16));
        var bnd = Regex.Match(status, @"CapBnd:\s+([0-9a-f]+)").Groups[1].Value;
        Assert.Equal(capMask, Convert.ToInt64(bnd, 16));
    }
}
