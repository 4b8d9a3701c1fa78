using System.Text.Json;
using System.Text.RegularExpressions;
using TunLB.Lab;

namespace TunLB.EndToEnd.Tests.Hardening;

/// <summary>
/// The standard lab with an HTTP/1.1 keep-alive server (nginx) on port 8080 of every real server (python's http.server
/// speaks HTTP/1.0 and closes each connection) beside the blob server on port 80. nginx serves the same files (/blob
/// too) and listens with a backlog of 511, where python's http.server has 5: tests that open many connections at once
/// use port 8080. Disposed with everything it started.
/// </summary>
public sealed class HardeningLab : IDisposable
{
    public StandardLab Lab { get; }
    public LabServices Services { get; }
    public string WorkDir { get; }
    public Topology T => Lab.Topology;
    public string ConfigPath => Path.Combine(WorkDir, "director.toml");
    public const int KeepAlivePort = 8080;

    /// <param name="realServerConfig">The agents' config (e.g. with gue or metrics); the standard one when null.</param>
    public HardeningLab(string? realServerConfig = null)
    {
        var prefix = Topology.NewPrefix();
        WorkDir = Path.Combine(Path.GetTempPath(), prefix + "hard");
        Lab = StandardLab.Build(prefix);
        try
        {
            Services = new LabServices(Lab, Tunlb.Command(), WorkDir);
            Services.StartRealServers(realServerConfig: realServerConfig);
            foreach (var rs in StandardLab.RealServers)
            {
                // nginx: HTTP/1.1 keep-alive and fast enough that the client, not the server, sets the request rate.
                var root = Path.Combine(WorkDir, "www-" + rs.Role);
                var dir = Path.Combine(WorkDir, "nginx-" + rs.Role);
                Directory.CreateDirectory(dir);
                var conf = Path.Combine(dir, "nginx.conf");
                File.WriteAllText(conf, $$"""
                    daemon off; master_process off; worker_processes 1; pid {{dir}}/nginx.pid; error_log stderr;
                    events { worker_connections 1024; }
                    http {
                      access_log off; keepalive_requests 1000000; keepalive_timeout 60s;
                      client_body_temp_path {{dir}}; proxy_temp_path {{dir}}; fastcgi_temp_path {{dir}}; uwsgi_temp_path {{dir}}; scgi_temp_path {{dir}};
                      server { listen {{StandardLab.Vip}}:{{KeepAlivePort}}; root {{root}}; }
                    }
                    """);
                var web = T.Start(rs.Role, $"nginx-{rs.Role}", "nginx", "-c", conf, "-e", "stderr");
                var sw = System.Diagnostics.Stopwatch.StartNew();
                while (T.Try(rs.Role, 5_000, "ss", "-Hltn", $"sport = :{KeepAlivePort}").Stdout.Length == 0)
                {
                    if (web.HasExited || sw.ElapsedMilliseconds > 15_000) throw new InvalidOperationException("nginx did not start: " + web.Output);
                    Thread.Sleep(100);
                }
            }
        }
        catch
        {
            Lab.Topology.Dispose();
            throw;
        }
    }

    /// <summary>The standard director config plus a keep-alive service on 8080 and extra [director] lines.</summary>
    public static string Config(string scheduler, string directorLines) =>
        StandardLab.DirectorConfig(scheduler).Replace("[director]", "[director]\n" + directorLines) +
        $"\n[[service]]\nvip = \"{StandardLab.Vip}\"\nport = {KeepAlivePort}\nprotocol = \"tcp\"\nscheduler = \"{scheduler}\"\n" +
        string.Concat(StandardLab.RealServers.Select(r => $"\n[[service.real]]\naddress = \"{r.Address}\"\n"));

    public BackgroundProcess StartDirector(string config) => Services.StartDirector(config);

    /// <summary>Resident memory of a process in KiB (VmRSS).</summary>
    public static long RssKiB(int pid)
    {
        var m = Regex.Match(File.ReadAllText($"/proc/{pid}/status"), @"VmRSS:\s+(\d+) kB");
        return m.Success ? long.Parse(m.Groups[1].Value) : throw new InvalidOperationException($"no VmRSS for {pid}");
    }

    /// <summary>GET on the director's API (its namespace's loopback) as JSON.</summary>
    public JsonElement Api(string path)
    {
        var r = T.Try("director", 30_000, "curl", "-sf", "--max-time", "10", "http://127.0.0.1:9400" + path);
        if (r.ExitCode != 0) throw new InvalidOperationException($"GET {path}: {r.ExitCode} {r.Stderr}");
        return JsonDocument.Parse(r.Stdout).RootElement.Clone();
    }

    /// <summary>Starts wrk from the client against the keep-alive service (HTTP/1.1, connections reused).</summary>
    public BackgroundProcess StartWrk(int seconds, int connections = 4, int timeoutSeconds = 5) =>
        T.Start("client", "wrk", "wrk", "-t1", $"-c{connections}", $"-d{seconds}s", "--timeout", $"{timeoutSeconds}s",
            $"http://{StandardLab.Vip}:{KeepAlivePort}/index.html");

    /// <summary>wrk's totals: requests, socket errors (connect+read+write+timeout), non-2xx/3xx answers.</summary>
    public static (long Requests, long Errors, long Non2xx) ParseWrk(string output)
    {
        var req = Regex.Match(output, @"(\d+) requests in");
        var err = Regex.Match(output, @"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)");
        var non = Regex.Match(output, @"Non-2xx or 3xx responses: (\d+)");
        long errors = err.Success ? Enumerable.Range(1, 4).Sum(i => long.Parse(err.Groups[i].Value)) : 0;
        return (req.Success ? long.Parse(req.Groups[1].Value) : -1, errors, non.Success ? long.Parse(non.Groups[1].Value) : 0);
    }

    public void Dispose()
    {
        Lab.Topology.Dispose();
        try { Directory.Delete(WorkDir, true); } catch { }
    }
}
