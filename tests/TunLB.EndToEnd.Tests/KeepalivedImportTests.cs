using TunLB.Lab;

namespace TunLB.EndToEnd.Tests;

/// <summary>A keepalived.conf an operator already has is imported with `tunlb import keepalived` and runs.</summary>
public sealed class KeepalivedImportTests : IDisposable
{
    private readonly StandardLab _lab;
    private readonly LabServices _svc;
    private readonly string _work;

    public KeepalivedImportTests()
    {
        var prefix = Topology.NewPrefix();
        _work = Path.Combine(Path.GetTempPath(), prefix + "ka");
        _lab = StandardLab.Build(prefix);
        try
        {
            _svc = new LabServices(_lab, Tunlb.Command(), _work);
            _svc.StartRealServers();
        }
        catch
        {
            _lab.Topology.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        _lab.Topology.Dispose();
        try { Directory.Delete(_work, true); } catch { }
    }

    [Fact]
    public void ImportedKeepalivedConfigRunsAndItsHealthCheckTakesADeadServerOut()
    {
        var ka = Path.Combine(_work, "keepalived.conf");
        File.WriteAllText(ka, $$"""
            ! Configuration File for keepalived
            global_defs {
               router_id LVS_LAB
            }

            virtual_server {{StandardLab.Vip}} 80 {
                delay_loop 1
                lb_algo rr
                lb_kind TUN
                protocol TCP

                real_server 192.0.2.11 80 {
                    weight 1
                    HTTP_GET {
                        url {
                          path /
                          status_code 200
                        }
                        connect_timeout 1
                        retry 1
                        delay_before_retry 1
                    }
                }
                real_server 192.0.2.12 80 {
                    weight 1
                    TCP_CHECK {
                        connect_timeout 1
                    }
                }
                real_server 192.0.2.131 80 {
                    weight 1
                    TCP_CHECK {
                        connect_port 80
                        connect_timeout 1
                    }
                }
            }
            """);
        var toml = Path.Combine(_work, "director.toml");
        var imp = Sh.Run(Tunlb.Command()[0], ["import", "keepalived", ka, "-o", toml]);
        // 3: equivalent, with notes only (here: global_defs is not converted); nothing skipped or changed (that is 4).
        Assert.True(imp.ExitCode == 3, imp.Stdout + imp.Stderr);
        Assert.Contains(": note: global_defs:", imp.Stderr);
        Assert.DoesNotContain(": skipped: ", imp.Stderr);
        Assert.DoesNotContain(": changed: ", imp.Stderr);
        var config = File.ReadAllText(toml);
        Assert.Contains("scheduler = \"rr\"", config);

        _svc.StartDirector(config);
        var seen = new HashSet<string>();
        for (int i = 0; i < 6; i++)
        {
            var r = _lab.Topology.Try("client", 20_000, "curl", "-s", "--max-time", "5", $"http://{StandardLab.Vip}/");
            Assert.True(r.ExitCode == 0, r.Stderr);
            seen.Add(r.Stdout.Trim());
        }
        Assert.Equal(new[] { "rs1", "rs2", "rs3" }, seen.Order().ToArray());

        // The imported checks run: stop rs2's HTTP server; within interval x fall + 1 s it takes no new connections.
        // (pkill is not namespace-scoped: pick the HTTP server among the processes of rs2's namespace.)
        foreach (var pid in Sh.Run("ip", ["netns", "pids", _lab.Topology.Ns("rs2")]).Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            if (File.Exists($"/proc/{pid.Trim()}/cmdline") && File.ReadAllText($"/proc/{pid.Trim()}/cmdline").Contains("http.server"))
                Sh.Run("kill", [pid.Trim()]);
        Thread.Sleep(4000);
        for (int i = 0; i < 6; i++)
        {
            var r = _lab.Topology.Try("client", 20_000, "curl", "-s", "--max-time", "5", $"http://{StandardLab.Vip}/");
            Assert.True(r.ExitCode == 0, $"request {i} failed after rs2 went down: {r.Stderr}\n{_svc.Director!.Output}");
            Assert.NotEqual("rs2", r.Stdout.Trim());
        }
        Assert.Contains("DOWN", _svc.Director!.Output);
    }
}
