using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using TunLB.Lab;

namespace TunLB.LabBench;

/// <summary>
/// The namespace benchmarks: small-packet forwarding against kernel forwarding, HTTP with 100 kB responses
/// against HAProxy and nginx stream, and the new-connection rate with the table filling. Everything runs
/// in namespaces of one <see cref="BenchTopology"/> and is removed at the end, also on failure.
/// </summary>
public sealed class BenchRun
{
    public const int FrameBytes = 60;          // 64 on the wire with the FCS: 14 eth + 20 IP + 8 UDP + 18 payload
    public const int ResponseBytes = 100 * 1024;
    private const string ProxyHaproxyPort = "8001", ProxyNginxPort = "8002";

    private readonly BenchOptions _o;
    private readonly BenchTopology _lab;
    private readonly string _work;
    private readonly List<string> _commands = new();
    private readonly List<string> _errors = new();
    private Topology T => _lab.Topology;

    private BenchRun(BenchOptions o, BenchTopology lab, string work) { _o = o; _lab = lab; _work = work; }

    /// <summary>Builds the topology, runs the selected parts, removes everything.</summary>
    public static LabBenchResult Run(BenchOptions o, Action<Topology>? onBuilt = null)
    {
        var prefix = Topology.NewPrefix();
        var work = Path.Combine(Path.GetTempPath(), prefix + "bench");
        Directory.CreateDirectory(work);
        o.Log.WriteLine($"lab bench: namespaces {prefix}*, work dir {work}");
        BenchTopology? lab = null;
        try
        {
            lab = BenchTopology.Build(prefix);
            onBuilt?.Invoke(lab.Topology);
            var run = new BenchRun(o, lab, work);
            ForwardingResult? fwd = null; ConnRateResult? conn = null; HttpResult? http = null;
            // Order matters: forwarding and the SYN flood run before the real-server agents exist, so the real
            // servers' kernels only count and drop the tunnelled packets (nothing answers spoofed sources).
            if (o.Runs("forward")) fwd = run.Guard("forwarding", run.Forwarding);
            if (o.Runs("conn")) conn = run.Guard("connection rate", run.ConnectionRate);
            if (o.Runs("http")) http = run.Guard("http", run.Http);
            return new LabBenchResult(fwd, http, conn, run._commands, run._errors);
        }
        finally
        {
            lab?.Dispose();
            if (Environment.GetEnvironmentVariable("TUNLB_LAB_KEEP") != "1") { try { Directory.Delete(work, true); } catch { } }
            o.Log.WriteLine("lab bench: namespaces removed");
        }
    }

    private TResult? Guard<TResult>(string what, Func<TResult> f) where TResult : class
    {
        try { return f(); }
        catch (Exception e)
        {
            _o.Log.WriteLine($"  {what} FAILED: {e.Message}");
            _errors.Add($"{what}: {e.Message}");
            return null;
        }
    }

    private void Note(string command) { if (!_commands.Contains(command)) _commands.Add(command); }

    // ---------- director ----------

    private BackgroundProcess StartDirector(string name, string config)
    {
        var path = Path.Combine(_work, name + ".toml");
        File.WriteAllText(path, config);
        var p = T.Start("director", name, _o.Tunlb[0], [.. _o.Tunlb.Skip(1), "director", "--config", path]);
        if (!p.WaitForOutput("ready", 30_000)) throw new InvalidOperationException($"director did not start:\n{p.Output}");
        Note($"tunlb director --config {name}.toml   # in the director namespace");
        return p;
    }

    private static string StopDirector(BackgroundProcess p)
    {
        p.Stop();
        var m = Regex.Match(p.Output, "stopped on [^:]*: (.*)$", RegexOptions.Multiline);
        return m.Success ? m.Groups[1].Value.Trim() : p.Output.Trim().Split('\n').LastOrDefault() ?? "";
    }

    /// <summary>
    /// For the packet-rate scenarios the real servers are sinks: an nftables netdev ingress rule on their eth0 drops
    /// everything after the interface has counted it (veth counts before the ingress hook; ARP passes), so neither the kernel
    /// baseline nor TunLB pays for the real servers' stack (ICMP port/protocol unreachable answers) in the sender's
    /// context. Removed on dispose.
    /// </summary>
    private IDisposable SinkRealServers()
    {
        for (int i = 0; i < BenchTopology.RealServers.Length; i++)
            T.Exec(BenchTopology.RsRole(i), "nft", "add table netdev tlbsink; add chain netdev tlbsink in { type filter hook ingress device eth0 priority 0; }; add rule netdev tlbsink in meta protocol ip drop");
        Note("nft 'add table netdev tlbsink; add chain netdev tlbsink in { type filter hook ingress device eth0 priority 0; }; add rule netdev tlbsink in meta protocol ip drop'   # each real-server namespace during forward/conn: count at the interface, then drop IPv4 (ARP passes)");
        return new Undo(() =>
        {
            for (int i = 0; i < BenchTopology.RealServers.Length; i++)
                try { T.Exec(BenchTopology.RsRole(i), "nft", "delete table netdev tlbsink"); } catch (Exception) { }
        });
    }

    private sealed class Undo(Action undo) : IDisposable { public void Dispose() => undo(); }

    private long RealServerRx() =>
        Enumerable.Range(0, BenchTopology.RealServers.Length).Sum(i => BenchProc.Link(T, BenchTopology.RsRole(i), "eth0").RxPackets);

    private string TrafgenConfig(string name, string body)
    {
        string dst = BenchProc.Mac(T, "inet", "cli"), src = BenchProc.Mac(T, "client", "eth0");
        var path = Path.Combine(_work, name + ".trafgen");
        File.WriteAllText(path, $"{{\n  eth(da={dst}, sa={src}, type=0x0800),\n{body}\n}}\n");
        return path;
    }

    private string[] Trafgen(string conf, int seconds, long packets, int ratePps = 0) =>
        ["timeout", "--signal=INT", seconds.ToString(CultureInfo.InvariantCulture), "trafgen", "--dev", "eth0", "--conf", conf,
         "-n", packets.ToString(CultureInfo.InvariantCulture), "--cpus", "1", "--no-sock-mem", "--notouch-irq", "--no-cpu-stats",
         .. (ratePps > 0 ? (string[])["-b", ratePps.ToString(CultureInfo.InvariantCulture) + "pps"] : [])];

    // ---------- a. small-packet forwarding ----------

    private ForwardingResult Forwarding()
    {
        _o.Log.WriteLine("forwarding: 64-byte UDP frames from 64,512 source ports, TunLB (io tun and afpacket) vs kernel IP forwarding");
        var conf = TrafgenConfig("udp64",
            $"  ipv4(sa={BenchTopology.ClientAddress}, da={BenchTopology.Vip}, ttl=64),\n" +
            "  udp(sp=dinc(1024, 65535), dp=9),\n  fill(0x00, 18)");
        Note("trafgen ... -n 100000 -b 100000pps   # warm-up before every measured round, not counted");
        Note($"trafgen --dev eth0 --conf udp64.trafgen -n {_o.ForwardMaxPackets} --cpus 1 --no-sock-mem --notouch-irq --no-cpu-stats under timeout --signal=INT {_o.ForwardSeconds}   # client namespace; conf: {File.ReadAllText(conf).ReplaceLineEndings(" ")}");
        var rounds = new List<ForwardingRound>();
        using var sink = SinkRealServers();
        for (int r = 0; r < _o.Rounds; r++)
        {
            foreach (var (mode, io, workers) in new[] { (ForwardingResult.Kernel, "", 0) }.Concat(ForwardingResult.TunlbModes))
            {
                if (_o.Modes is { } only && !only.Contains(mode)) continue;
                var round = mode == ForwardingResult.Kernel ? ForwardKernel(conf) : ForwardTunlb(conf, mode, io, workers);
                rounds.Add(round);
                _o.Log.WriteLine($"  {mode,-17} round {r + 1}: sent {round.Sent:N0}, delivered {round.Delivered:N0} in {round.Seconds:F2} s = {round.DeliveredPps:N0} pps, loss {round.LossPercent:F1}%" +
                                 (mode != ForwardingResult.Kernel ? $", director CPU {round.DirectorCpuSeconds:F2} s" + (io == "tun" ? $", TUN queue drops {round.TunQueueDrops:N0}" : "") : ""));
            }
        }
        var res = new ForwardingResult(FrameBytes, 64512, rounds);
        _o.Log.WriteLine("  ratio TunLB / kernel: " + string.Join(", ", ForwardingResult.TunlbModes.Select(m => $"{m.Mode} {res.RatioOf(m.Mode):F2}")));
        return res;
    }

    private ForwardingRound ForwardKernel(string conf)
    {
        // Plain kernel forwarding on the same path: the director namespace routes the VIP to rs1, which holds it.
        T.Exec("rs1", "ip", "addr", "add", BenchTopology.Vip + "/32", "dev", "lo");
        T.Exec("director", "ip", "route", "add", BenchTopology.Vip + "/32", "via", BenchTopology.RealServers[0]);
        Note($"ip route add {BenchTopology.Vip}/32 via {BenchTopology.RealServers[0]}   # director namespace, kernel baseline; rs1 holds the VIP on lo");
        try { return Measure("kernel", conf, null, null); }
        finally
        {
            T.Try("director", 5000, "ip", "route", "del", BenchTopology.Vip + "/32");
            T.Try("rs1", 5000, "ip", "addr", "del", BenchTopology.Vip + "/32", "dev", "lo");
        }
    }

    private ForwardingRound ForwardTunlb(string conf, string mode, string io, int workers)
    {
        var d = StartDirector($"director-udp-{io}-{workers}w", BenchTopology.DirectorConfig("udp", 9, io: io, workers: workers));
        // With io = "afpacket" nothing reads the TUN device, so its drop counter says nothing about the director.
        try { return Measure(mode, conf, d, io == "tun" ? "tunlb0" : null); }
        finally { if (!d.HasExited) StopDirector(d); }
    }

    private ForwardingRound Measure(string mode, string conf, BackgroundProcess? director, string? tun)
    {
        // Warm-up, not measured: 1 s at 100,000 packets/s of the same traffic (JIT tiering, neighbour entries, caches).
        T.Try("client", 20_000, Trafgen(conf, 5, 100_000, ratePps: 100_000));
        Thread.Sleep(300);
        var cli0 = BenchProc.Link(T, "client", "eth0");
        long rx0 = RealServerRx();
        long tun0 = tun != null ? BenchProc.Link(T, "director", tun).TxDropped : 0;
        double cpu0 = director != null ? BenchProc.CpuSeconds(director.Pid) : 0;
        var sw = Stopwatch.StartNew();
        var r = T.Try("client", (_o.ForwardSeconds + 20) * 1000, Trafgen(conf, _o.ForwardSeconds, _o.ForwardMaxPackets));
        double secs = sw.Elapsed.TotalSeconds;
        if (r.ExitCode != 0 && r.ExitCode != 124) throw new InvalidOperationException($"trafgen failed ({r.ExitCode}): {r.Stderr}{r.Stdout}");
        Thread.Sleep(300); // let queues drain
        long sent = BenchProc.Link(T, "client", "eth0").TxPackets - cli0.TxPackets;
        long delivered = RealServerRx() - rx0;
        long tunDrops = tun != null ? BenchProc.Link(T, "director", tun).TxDropped - tun0 : 0;
        double cpu = director != null ? BenchProc.CpuSeconds(director.Pid) - cpu0 : 0;
        string? summary = director != null ? StopDirector(director) : null;
        return new ForwardingRound(mode, sent, delivered, secs, delivered / secs,
            sent > 0 ? 100.0 * (sent - delivered) / sent : 0, cpu, tunDrops, summary);
    }

    // ---------- c. new connections with the table filling ----------

    private ConnRateResult ConnectionRate()
    {
        const int flows = 16 * 64511; // source addresses .16-.31 x ports 1024-65534 (odd count, so every pair occurs)
        _o.Log.WriteLine($"connection rate: {_o.ConnPackets:N0} SYNs of distinct flows (of {flows:N0}) at {_o.ConnRatePps:N0}/s into a 1,000,000-entry table");
        var conf = TrafgenConfig("syn",
            $"  ipv4(sa=198.51.100.16, sa[3]=dinc(16, 31), da={BenchTopology.Vip}, ttl=64),\n" +
            "  tcp(sp=dinc(1024, 65534), dp=80, syn, seq=drnd())");
        Note($"trafgen --dev eth0 --conf syn.trafgen -n {_o.ConnPackets} --cpus 1 --no-sock-mem --notouch-irq --no-cpu-stats -b {_o.ConnRatePps}pps under timeout --signal=INT {_o.ConnSeconds}   # client namespace; conf: {File.ReadAllText(conf).ReplaceLineEndings(" ")}");
        // The default io = "tun" (io = "afpacket" measured no better here: 80,903/s held, 206,142 lost in its 960-frame ring).
        var d = StartDirector("director-syn", BenchTopology.DirectorConfig("tcp", 80, 1_000_000));
        using var sink = SinkRealServers();
        try
        {
            long rssStart = BenchProc.RssBytes(d.Pid);
            double cpu0 = BenchProc.CpuSeconds(d.Pid);
            long rx0 = RealServerRx(), tx0 = BenchProc.Link(T, "client", "eth0").TxPackets;
            long tun0 = BenchProc.Link(T, "director", "tunlb0").TxDropped;
            var samples = new List<ConnSample>();
            var sw = Stopwatch.StartNew();
            using (var gen = T.Start("client", "trafgen-syn", Trafgen(conf, _o.ConnSeconds, _o.ConnPackets, _o.ConnRatePps)[0], Trafgen(conf, _o.ConnSeconds, _o.ConnPackets, _o.ConnRatePps)[1..]))
            {
                long last = rx0; double lastT = 0;
                while (!gen.HasExited && sw.Elapsed.TotalSeconds < _o.ConnSeconds + 10)
                {
                    Thread.Sleep(1000);
                    long rx = RealServerRx(); double t = sw.Elapsed.TotalSeconds;
                    samples.Add(new ConnSample(t, rx - rx0, (rx - last) / (t - lastT), BenchProc.RssBytes(d.Pid)));
                    last = rx; lastT = t;
                }
                if (!gen.HasExited) gen.Stop(2);
            }
            double secs = sw.Elapsed.TotalSeconds;
            Thread.Sleep(300);
            long delivered = RealServerRx() - rx0, sent = BenchProc.Link(T, "client", "eth0").TxPackets - tx0;
            long tunDrops = BenchProc.Link(T, "director", "tunlb0").TxDropped - tun0;
            long rssEnd = BenchProc.RssBytes(d.Pid);
            double cpu = BenchProc.CpuSeconds(d.Pid) - cpu0;
            string summary = StopDirector(d);
            var inTable = Regex.Match(summary, @"(\d+) in table");
            var drops = Regex.Match(summary, @"dropped: ([^;]*)");
            // The capture queue's losses: the ring's kernel_ring_full with io = "afpacket" (the TUN device is not read then).
            var ringFull = Regex.Match(summary, @"kernel_ring_full=(\d+)");
            if (ringFull.Success) tunDrops = long.Parse(ringFull.Groups[1].Value);
            // Rate over the time packets were flowing: from the start to the first sample that saw the final count.
            var done = samples.FirstOrDefault(s => s.Delivered >= delivered - 100);
            double pps = delivered / (done?.Seconds ?? secs);
            var res = new ConnRateResult(sent, delivered, secs, pps, flows, samples, rssStart, rssEnd, tunDrops, cpu,
                inTable.Success ? long.Parse(inTable.Groups[1].Value) : -1, drops.Success ? drops.Groups[1].Value : "?", summary, _o.ConnRatePps);
            _o.Log.WriteLine($"  sent {sent:N0}, delivered {delivered:N0}, {pps:N0} new connections/s, table {res.InTable:N0}, RSS {rssStart / 1048576.0:F0} -> {rssEnd / 1048576.0:F0} MiB, capture queue drops {tunDrops:N0}, director drops: {res.Drops}");
            return res;
        }
        finally { if (!d.HasExited) StopDirector(d); }
    }

    // ---------- b. HTTP, 100 kB responses ----------

    private HttpResult Http()
    {
        string wrkArgs = $"-t2 -c32 -d{_o.HttpSeconds}s --timeout 5s";
        _o.Log.WriteLine($"http: wrk {wrkArgs}, {ResponseBytes / 1024} kB responses; TunLB vs HAProxy (mode tcp) vs nginx stream");
        StartRealServers();
        var runs = new List<HttpRun>();
        for (int r = 0; r < _o.Rounds; r++)
        {
            runs.Add(HttpTunlb(wrkArgs, "tun"));
            runs.Add(HttpTunlb(wrkArgs, "afpacket"));
            runs.Add(HttpHaproxy(wrkArgs));
            runs.Add(HttpNginxStream(wrkArgs));
            runs.Add(HttpDirect(wrkArgs));
        }
        return new HttpResult(wrkArgs, ResponseBytes, runs);
    }

    private void StartRealServers()
    {
        var rsConf = Path.Combine(_work, "realserver.toml");
        File.WriteAllText(rsConf, BenchTopology.RealServerConfig());
        var blob = new byte[ResponseBytes];
        new Random(42).NextBytes(blob);
        for (int i = 0; i < BenchTopology.RealServers.Length; i++)
        {
            string role = BenchTopology.RsRole(i), addr = BenchTopology.RealServers[i];
            var agent = T.Start(role, "agent-" + role, _o.Tunlb[0], [.. _o.Tunlb.Skip(1), "realserver", "--config", rsConf]);
            if (!agent.WaitForOutput("ready", 20_000)) throw new InvalidOperationException($"real-server agent on {role} did not start:\n{agent.Output}");
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
                        listen {{BenchTopology.WanAddress(i)}}:80;
                        root {{root}};
                    }
                }
                """);
            T.Start(role, "nginx-" + role, "nginx", "-c", conf, "-e", "stderr");
            WaitHttp(role, $"http://{addr}/blob");
        }
        Note("tunlb realserver --config realserver.toml; nginx -c nginx-rsN.conf (listen VIP:80, own LAN and inet addresses:80, 100 kB /blob, 1 worker)   # each real-server namespace");
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

    private HttpRun HttpTunlb(string wrkArgs, string io)
    {
        var d = StartDirector($"director-http-{io}", BenchTopology.DirectorConfig("tcp", 80, io: io));
        try
        {
            WaitHttp("client", $"http://{BenchTopology.Vip}/blob");
            return Wrk(io == "tun" ? "tunlb" : "tunlb-afpacket", $"tunlb director (io {io})", d.Pid, $"http://{BenchTopology.Vip}/blob", wrkArgs);
        }
        finally { StopDirector(d); }
    }

    /// <summary>No load balancer: the client connects straight to rs1's address on its inet link (one server of the set).</summary>
    private HttpRun HttpDirect(string wrkArgs)
    {
        string url = $"http://{BenchTopology.WanAddress(0)}/blob";
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
            {string.Concat(BenchTopology.RealServers.Select((a, i) => $"    server rs{i + 1} {a}:80\n"))}
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
            {{string.Concat(BenchTopology.RealServers.Select(a => $"        server {a}:80;\n"))}}    }
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
    private HttpRun Wrk(string mode, string process, int pid, string url, string wrkArgs)
    {
        Note($"wrk {WarmupArgs} (warm-up, not measured), then wrk {wrkArgs} {url.Replace(BenchTopology.Vip, "VIP")}   # client namespace");
        T.Try("client", 30_000, ["wrk", .. WarmupArgs.Split(' '), url]);
        double cpu0 = pid > 0 ? BenchProc.CpuSeconds(pid) : 0;
        var sw = Stopwatch.StartNew();
        var r = T.Try("client", (_o.HttpSeconds + 30) * 1000, ["wrk", .. wrkArgs.Split(' '), url]);
        double secs = sw.Elapsed.TotalSeconds;
        double cpu = pid > 0 ? BenchProc.CpuSeconds(pid) - cpu0 : 0;
        if (r.ExitCode != 0) throw new InvalidOperationException($"wrk failed ({r.ExitCode}): {r.Stderr}{r.Stdout}");
        var rps = Regex.Match(r.Stdout, @"Requests/sec:\s+([\d.]+)");
        var req = Regex.Match(r.Stdout, @"(\d+) requests in ([\d.]+)(\w+), ([\d.]+\w+) read");
        var errs = Regex.Matches(r.Stdout, @"(?:connect|read|write|timeout) (\d+)").Sum(m => long.Parse(m.Groups[1].Value));
        var non2xx = Regex.Match(r.Stdout, @"Non-2xx or 3xx responses: (\d+)");
        if (non2xx.Success) errs += long.Parse(non2xx.Groups[1].Value);
        if (!rps.Success || !req.Success) throw new InvalidOperationException($"cannot parse wrk output:\n{r.Stdout}");
        var run = new HttpRun(mode, process, double.Parse(rps.Groups[1].Value, CultureInfo.InvariantCulture),
            long.Parse(req.Groups[1].Value), errs, secs, cpu, req.Groups[4].Value);
        _o.Log.WriteLine($"  {mode,-12} {run.RequestsPerSecond,9:N0} req/s, {run.Requests:N0} requests ({run.WrkTransfer}), errors {errs}, {process} CPU {cpu:F2} s = {run.CpuSecondsPer1000 * 1000:F1} ms per 1000 requests");
        return run;
    }
}
