using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using TunLB.Lab;

namespace TunLB.LabBench;

public sealed partial class BenchRun
{
    public const int ResponseBytes = 100 * 1024;
    private const string ProxyHaproxyPort = "8001", ProxyNginxPort = "8002";

    // ---------- b. HTTP, 100 kB responses ----------

    private HttpResult Http()
    {
        string wrkArgs = $"-t2 -c32 -d{_o.HttpSeconds}s --timeout 5s";
        _o.Log.WriteLine($"http: wrk {wrkArgs}, {ResponseBytes / 1024} kB responses; TunLB vs HAProxy (mode tcp) vs nginx stream");
        StartRealServers();
        var runs = new List<HttpRun>();
        for (int r = 0; r < _o.Rounds; r++)
        {
            foreach (var io in _o.IoList)
            {
                Each(runs, $"http {TunlbMode.Name(io)}", () => HttpTunlb(wrkArgs, io, split: false));
                if (_o.CpuSplit && CpuSplit.Possible) Each(runs, $"http {TunlbMode.Name(io)} split", () => HttpTunlb(wrkArgs, io, split: true));
            }
            Each(runs, "http haproxy", () => HttpHaproxy(wrkArgs));
            Each(runs, "http nginx-stream", () => HttpNginxStream(wrkArgs));
            Each(runs, "http direct", () => HttpDirect(wrkArgs));
        }
        return new HttpResult(wrkArgs, ResponseBytes, runs);
    }

    /// <summary>The real-server agents (`tunlb realserver`), once started: their CPU is reported next to the director's.</summary>
    private readonly List<BackgroundProcess> _agents = new();

    /// <summary>Starts the agent and nginx in every real server (once; later calls return at once).</summary>
    private void StartRealServers()
    {
        if (_agents.Count > 0) return;
        var rsConf = Path.Combine(_work, "realserver.toml");
        File.WriteAllText(rsConf, _lab.RealServerConfig(_o.Decap));
        var blob = new byte[ResponseBytes];
        new Random(42).NextBytes(blob);
        for (int i = 0; i < _lab.RealServers.Length; i++)
        {
            string role = BenchTopology.RsRole(i), addr = _lab.RealServers[i];
            var agent = T.Start(role, "agent-" + role, _o.Tunlb[0], [.. _o.Tunlb.Skip(1), "realserver", "--config", rsConf]);
            if (!agent.WaitForOutput("ready", 20_000)) throw new InvalidOperationException($"real-server agent on {role} did not start:\n{agent.Output}");
            _agents.Add(agent);
            var root = Path.Combine(_work, "www-" + role);
            Directory.CreateDirectory(root);
            File.WriteAllBytes(Path.Combine(root, "blob"), blob);
            var conf = Path.Combine(_work, $"nginx-{role}.conf");
            File.WriteAllText(conf, $$"""
                daemon off;
                master_process on;
                worker_processes 1;
                pid {{_work}}/nginx-{{role}}.pid;
                error_log stderr warn;
                events { worker_connections 4096; }
                http {
                    access_log off;
                    sendfile on;
                    tcp_nopush on;
                    keepalive_requests 1000000;
                    client_body_temp_path {{_work}}/tmp-{{role}}-body;
                    proxy_temp_path {{_work}}/tmp-{{role}}-proxy;
                    fastcgi_temp_path {{_work}}/tmp-{{role}}-fcgi;
                    uwsgi_temp_path {{_work}}/tmp-{{role}}-uwsgi;
                    scgi_temp_path {{_work}}/tmp-{{role}}-scgi;
                    server {
                        listen {{BenchTopology.Vip}}:80;
                        listen {{addr}}:80;
                        {{(_lab.DirectAddresses[i] != addr ? $"listen {_lab.DirectAddresses[i]}:80;" : "")}}
                        root {{root}};
                    }
                }
                """);
            T.Start(role, "nginx-" + role, "nginx", "-c", conf, "-e", "stderr");
            WaitHttp(role, $"http://{addr}/blob");
        }
        Note($"tunlb realserver --config realserver.toml{(_o.Decap == "agent" ? "" : $" (decap = \"{_o.Decap}\")")}; nginx -c nginx-rsN.conf (listen VIP:80 and the server's own and direct addresses:80, 100 kB /blob, 1 worker)   # each real-server namespace");
        _o.Log.WriteLine("  real-server agents and nginx are up");
    }

    private void WaitHttp(string role, string url)
    {
        var sw = Stopwatch.StartNew();
        while (sw.ElapsedMilliseconds < 15_000)
        {
            var r = T.Try(role, 5000, "curl", "-s", "-o", "/dev/null", "-w", "%{http_code} %{size_download}", "--max-time", "3", url);
            if (r.ExitCode == 0 && r.Stdout.Trim() == $"200 {ResponseBytes}") return;
            Thread.Sleep(200);
        }
        throw new InvalidOperationException($"{url} does not answer 200 with {ResponseBytes} bytes from {role}");
    }

    private HttpRun HttpTunlb(string wrkArgs, string io, bool split)
    {
        using var cpuSplit = SplitIf(split);
        var d = StartDirector($"director-http-{io}" + (split ? "-split" : ""), _lab.DirectorConfig("tcp", 80, io: io), split);
        try
        {
            WaitHttp("client", $"http://{BenchTopology.Vip}/blob");
            return Wrk(TunlbMode.Name(io), $"tunlb director (io {io}{(split ? $", pinned to CPU {CpuSplit.DirectorCpu}, RPS on the next hop" : "")})",
                d.Pid, $"http://{BenchTopology.Vip}/blob", wrkArgs, split);
        }
        finally
        {
            // What the director chose and what it did, for the log: the io line of its startup and its stop summary.
            var io_ = Regex.Match(d.Output, @"io auto: [^;\n]*|io [a-z]+: [^;\n]*");
            _o.Log.WriteLine($"    director {(io_.Success ? io_.Value : "")}; {StopDirector(d)}");
        }
    }

    /// <summary>No load balancer: the client connects straight to rs1's direct address (one server of the set).</summary>
    private HttpRun HttpDirect(string wrkArgs)
    {
        string url = $"http://{_lab.DirectAddresses[0]}/blob";
        WaitHttp("client", url);
        return Wrk("direct", "(none: client to rs1)", -1, url, wrkArgs);
    }

    private HttpRun HttpHaproxy(string wrkArgs)
    {
        var conf = Path.Combine(_work, "haproxy.cfg");
        File.WriteAllText(conf, $"""
            global
                maxconn 4000
            defaults
                mode tcp
                timeout connect 5s
                timeout client 30s
                timeout server 30s
            frontend bench
                bind {BenchTopology.DirectorAddress}:{ProxyHaproxyPort}
                default_backend reals
            backend reals
                balance roundrobin
            {string.Concat(_lab.RealServers.Select((a, i) => $"    server rs{i + 1} {a}:80\n"))}
            """);
        Note($"haproxy -db -f haproxy.cfg   # director namespace; mode tcp, balance roundrobin, bind {BenchTopology.DirectorAddress}:{ProxyHaproxyPort}, default nbthread (= 2 CPUs)");
        var p = T.Start("director", "haproxy", "haproxy", "-db", "-f", conf);
        try
        {
            try { WaitHttp("client", $"http://{BenchTopology.DirectorAddress}:{ProxyHaproxyPort}/blob"); }
            catch (InvalidOperationException e) { throw new InvalidOperationException($"{e.Message}; haproxy output:\n{p.Output}"); }
            return Wrk("haproxy", "haproxy", p.Pid, $"http://{BenchTopology.DirectorAddress}:{ProxyHaproxyPort}/blob", wrkArgs);
        }
        finally { p.Stop(); }
    }

    private HttpRun HttpNginxStream(string wrkArgs)
    {
        var conf = Path.Combine(_work, "nginx-stream.conf");
        const string module = "/usr/lib/nginx/modules/ngx_stream_module.so";
        if (!File.Exists(module)) throw new InvalidOperationException($"{module} is missing (Debian package libnginx-mod-stream)");
        File.WriteAllText(conf, $$"""
            load_module {{module}};
            daemon off;
            master_process on;
            worker_processes auto;
            pid {{_work}}/nginx-stream.pid;
            error_log stderr warn;
            events { worker_connections 8192; }
            stream {
                upstream reals {
            {{string.Concat(_lab.RealServers.Select(a => $"        server {a}:80;\n"))}}    }
                server {
                    listen {{BenchTopology.DirectorAddress}}:{{ProxyNginxPort}};
                    proxy_pass reals;
                }
            }
            """);
        Note($"nginx -c nginx-stream.conf   # director namespace; stream proxy_pass to the real servers, worker_processes auto (= 2), listen {BenchTopology.DirectorAddress}:{ProxyNginxPort}");
        var p = T.Start("director", "nginx-stream", "nginx", "-c", conf, "-e", "stderr");
        try
        {
            try { WaitHttp("client", $"http://{BenchTopology.DirectorAddress}:{ProxyNginxPort}/blob"); }
            catch (InvalidOperationException e) { throw new InvalidOperationException($"{e.Message}; nginx output:\n{p.Output}"); }
            return Wrk("nginx-stream", "nginx (master + workers)", p.Pid, $"http://{BenchTopology.DirectorAddress}:{ProxyNginxPort}/blob", wrkArgs);
        }
        finally { p.Stop(3); }
    }

    /// <summary>Unmeasured load before each measured wrk run, so JIT tiering, caches and connection setup are past.</summary>
    private const string WarmupArgs = "-t2 -c32 -d2s --timeout 5s";

    /// <summary>Runs wrk against <paramref name="url"/> (after a 2 s unmeasured warm-up) and reads the CPU time of
    /// <paramref name="pid"/>'s process tree over the measured run (pid &lt; 0: no middle process, no CPU).</summary>
    private HttpRun Wrk(string mode, string process, int pid, string url, string wrkArgs, bool split = false)
    {
        Note($"wrk {WarmupArgs} (warm-up, not measured), then wrk {wrkArgs} {url.Replace(BenchTopology.Vip, "VIP")}   # client namespace");
        T.Try("client", 30_000, ["wrk", .. WarmupArgs.Split(' '), url]);
        double cpu0 = pid > 0 ? BenchProc.CpuSeconds(pid) : 0, agents0 = AgentCpuSeconds();
        var sw = Stopwatch.StartNew();
        var r = T.Try("client", (_o.HttpSeconds + 30) * 1000, ["wrk", .. wrkArgs.Split(' '), url]);
        double secs = sw.Elapsed.TotalSeconds;
        double cpu = pid > 0 ? BenchProc.CpuSeconds(pid) - cpu0 : 0, agents = AgentCpuSeconds() - agents0;
        if (r.ExitCode != 0) throw new InvalidOperationException($"wrk failed ({r.ExitCode}): {r.Stderr}{r.Stdout}");
        var rps = Regex.Match(r.Stdout, @"Requests/sec:\s+([\d.]+)");
        var req = Regex.Match(r.Stdout, @"(\d+) requests in ([\d.]+)(\w+), ([\d.]+\w+) read");
        var errs = Regex.Matches(r.Stdout, @"(?:connect|read|write|timeout) (\d+)").Sum(m => long.Parse(m.Groups[1].Value));
        var non2xx = Regex.Match(r.Stdout, @"Non-2xx or 3xx responses: (\d+)");
        if (non2xx.Success) errs += long.Parse(non2xx.Groups[1].Value);
        if (!rps.Success || !req.Success) throw new InvalidOperationException($"cannot parse wrk output:\n{r.Stdout}");
        var run = new HttpRun(mode, process, double.Parse(rps.Groups[1].Value, CultureInfo.InvariantCulture),
            long.Parse(req.Groups[1].Value), errs, secs, cpu, req.Groups[4].Value, agents, split);
        _o.Log.WriteLine($"  {mode + (split ? " split" : ""),-21} {run.RequestsPerSecond,9:N0} req/s, {run.Requests:N0} requests ({run.WrkTransfer}), errors {errs}, {process} CPU {cpu:F2} s = {run.CpuSecondsPer1000 * 1000:F1} ms per 1000 requests; real-server agents {agents:F2} s = {run.AgentCpuSecondsPer1000 * 1000:F1} ms per 1000");
        return run;
    }

    /// <summary>utime+stime of all real-server agents (`tunlb realserver` processes) so far.</summary>
    private double AgentCpuSeconds() => _agents.Sum(a => BenchProc.CpuSeconds(a.Pid));
}
