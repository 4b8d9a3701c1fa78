using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using TunLB.Lab;

namespace TunLB.LabBench;

/// <summary>
/// The namespace benchmarks: small-packet forwarding against kernel forwarding, HTTP with 100 kB responses
/// against HAProxy and nginx stream, the new-connection rate with the table filling, and request/response latency
/// through the VIP against straight to a real server. Everything runs in namespaces of one <see cref="BenchTopology"/>
/// and is removed at the end, also on failure.
/// </summary>
public sealed partial class BenchRun
{
    public const int FrameBytes = 60;          // 64 on the wire with the FCS: 14 eth + 20 IP + 8 UDP + 18 payload

    private readonly BenchOptions _o;
    private readonly BenchTopology _lab;
    private readonly string _work;
    private readonly List<string> _commands = new();
    private readonly List<string> _errors = new();
    private Topology T => _lab.Topology;

    private BenchRun(BenchOptions o, BenchTopology lab, string work) { _o = o; _lab = lab; _work = work; }

    /// <summary>Builds the topology <see cref="BenchOptions.Topology"/>, runs the selected parts, removes everything.</summary>
    public static LabBenchResult Run(BenchOptions o, Action<Topology>? onBuilt = null)
    {
        var prefix = Topology.NewPrefix();
        var work = Path.Combine(Path.GetTempPath(), prefix + "bench");
        Directory.CreateDirectory(work);
        o.Log.WriteLine($"lab bench ({o.Topology} topology): namespaces {prefix}*, work dir {work}");
        BenchTopology? lab = null;
        try
        {
            lab = BenchTopology.Build(prefix, o.Topology);
            onBuilt?.Invoke(lab.Topology);
            var run = new BenchRun(o, lab, work);
            ForwardingResult? fwd = null; ConnRateResult? conn = null; HttpResult? http = null; LatencyResult? lat = null;
            // Order matters: forwarding and the SYN flood run before the real-server agents exist, so the real
            // servers' kernels only count and drop the tunnelled packets (nothing answers spoofed sources).
            if (o.Runs("forward")) fwd = run.Guard("forwarding", run.Forwarding);
            if (o.Runs("conn")) conn = run.Guard("connection rate", run.ConnectionRate);
            if (o.Runs("http")) http = run.Guard("http", run.Http);
            if (o.Runs("latency")) lat = run.Guard("latency", run.Latency);
            return new LabBenchResult(fwd, http, conn, run._commands, run._errors, lab.Kind, lat, lab.Description, [.. o.IoList]);
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

    /// <summary>One measurement of a scenario: a failure is logged and listed as an error, and the scenario goes on.</summary>
    private void Each<TResult>(List<TResult> into, string what, Func<TResult> f) where TResult : class
    {
        if (Guard(what, f) is { } r) into.Add(r);
    }

    private void Note(string command) { if (!_commands.Contains(command)) _commands.Add(command); }

    // ---------- director ----------

    /// <param name="pinned">Start under taskset on <see cref="CpuSplit.DirectorCpu"/> (all its threads inherit it).</param>
    private BackgroundProcess StartDirector(string name, string config, bool pinned = false)
    {
        var path = Path.Combine(_work, name + ".toml");
        File.WriteAllText(path, config);
        string[] args = [.. _o.Tunlb.Skip(1), "director", "--config", path];
        var (file, argv) = pinned ? CpuSplit.Pinned(_o.Tunlb[0], args) : (_o.Tunlb[0], args);
        var p = T.Start("director", name, file, argv);
        if (!p.WaitForOutput("ready", 30_000)) throw new InvalidOperationException($"director did not start:\n{p.Output}");
        Note($"tunlb director --config {Regex.Replace(name, "-split$", "")}.toml   # in the director namespace");
        return p;
    }

    private static string StopDirector(BackgroundProcess p)
    {
        p.Stop();
        var m = Regex.Match(p.Output, "stopped on [^:]*: (.*)$", RegexOptions.Multiline);
        return m.Success ? m.Groups[1].Value.Trim() : p.Output.Trim().Split('\n').LastOrDefault() ?? "";
    }

    /// <summary>Pins the director and turns RPS on on the next hops when <paramref name="split"/>; null otherwise.</summary>
    private CpuSplit? SplitIf(bool split)
    {
        if (!split) return null;
        Note(CpuSplit.Command(_lab));
        return CpuSplit.Apply(_lab);
    }

    /// <summary>
    /// For the packet-rate scenarios the real servers are sinks: an nftables netdev ingress rule on their eth0 drops
    /// everything after the interface has counted it (veth counts before the ingress hook; ARP passes), so neither the kernel
    /// baseline nor TunLB pays for the real servers' stack (ICMP port/protocol unreachable answers) in the sender's
    /// context. Removed on dispose.
    /// </summary>
    private IDisposable SinkRealServers()
    {
        for (int i = 0; i < _lab.RealServers.Length; i++)
            T.Exec(BenchTopology.RsRole(i), "nft", "add table netdev tlbsink; add chain netdev tlbsink in { type filter hook ingress device eth0 priority 0; }; add rule netdev tlbsink in meta protocol ip drop");
        Note("nft 'add table netdev tlbsink; add chain netdev tlbsink in { type filter hook ingress device eth0 priority 0; }; add rule netdev tlbsink in meta protocol ip drop'   # each real-server namespace during forward/conn: count at the interface, then drop IPv4 (ARP passes)");
        return new Undo(() =>
        {
            for (int i = 0; i < _lab.RealServers.Length; i++)
                try { T.Exec(BenchTopology.RsRole(i), "nft", "delete table netdev tlbsink"); } catch (Exception) { }
        });
    }

    private sealed class Undo(Action undo) : IDisposable { public void Dispose() => undo(); }

    /// <summary>Plain kernel forwarding of the VIP to rs1 (which holds it on lo) along the topology's path; undone on dispose.</summary>
    private IDisposable KernelPath()
    {
        bool added = T.Try("rs1", 5000, "ip", "addr", "add", BenchTopology.Vip + "/32", "dev", "lo").ExitCode == 0;
        foreach (var (role, via) in _lab.KernelPathToRs1) T.Route(role, BenchTopology.Vip + "/32", via);
        Note($"ip route add {BenchTopology.Vip}/32 via NEXT   # kernel baseline, along " +
             string.Join(", ", _lab.KernelPathToRs1.Select(h => $"{h.Role} via {h.Via}")) + "; rs1 holds the VIP on lo");
        return new Undo(() =>
        {
            foreach (var (role, _) in _lab.KernelPathToRs1) T.Try(role, 5000, "ip", "route", "del", BenchTopology.Vip + "/32");
            if (added) T.Try("rs1", 5000, "ip", "addr", "del", BenchTopology.Vip + "/32", "dev", "lo");
        });
    }

    private long RealServerRx() =>
        Enumerable.Range(0, _lab.RealServers.Length).Sum(i => BenchProc.Link(T, BenchTopology.RsRole(i), "eth0").RxPackets);

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
        _o.Log.WriteLine($"forwarding: 64-byte UDP frames from 64,512 source ports, TunLB (io {string.Join(", ", _o.IoList)}) vs kernel IP forwarding");
        var conf = TrafgenConfig("udp64",
            $"  ipv4(sa={BenchTopology.ClientAddress}, da={BenchTopology.Vip}, ttl=64),\n" +
            "  udp(sp=dinc(1024, 65535), dp=9),\n  fill(0x00, 18)");
        Note("trafgen ... -n 100000 -b 100000pps   # warm-up before every measured round, not counted");
        Note($"trafgen --dev eth0 --conf udp64.trafgen -n {_o.ForwardMaxPackets} --cpus 1 --no-sock-mem --notouch-irq --no-cpu-stats under timeout --signal=INT {_o.ForwardSeconds}   # client namespace; conf: {File.ReadAllText(conf).ReplaceLineEndings(" ")}");
        var rounds = new List<ForwardingRound>();
        using var sink = SinkRealServers();
        for (int r = 0; r < _o.Rounds; r++)
        {
            foreach (var (mode, io, workers) in new[] { (ForwardingResult.Kernel, "", 0) }.Concat(_o.TunlbModes))
            {
                if (_o.Modes is { } only && !only.Contains(mode)) continue;
                bool canSplit = mode != ForwardingResult.Kernel && workers == 1 && _o.CpuSplit && CpuSplit.Possible;
                foreach (bool split in canSplit ? [false, true] : new[] { false })
                {
                    int before = rounds.Count;
                    Each(rounds, $"forwarding {mode}{(split ? " split" : "")} round {r + 1}",
                        () => mode == ForwardingResult.Kernel ? ForwardKernel(conf) : ForwardTunlb(conf, mode, io, workers, split));
                    if (rounds.Count == before) continue;
                    var round = rounds[^1];
                    _o.Log.WriteLine($"  {mode + (split ? " split" : ""),-23} round {r + 1}: sent {round.Sent:N0}, delivered {round.Delivered:N0} in {round.Seconds:F2} s = {round.DeliveredPps:N0} pps, loss {round.LossPercent:F1}%" +
                                     (mode != ForwardingResult.Kernel ? $", director CPU {round.DirectorCpuSeconds:F2} s = {round.CpuMicrosPerPacket:F2} µs/packet" + (io == "tun" ? $", TUN queue drops {round.TunQueueDrops:N0}" : "") : ""));
                }
            }
        }
        var res = new ForwardingResult(FrameBytes, 64512, rounds, TunlbMode.Name(_o.IoList[0]));
        _o.Log.WriteLine("  ratio TunLB / kernel: " + string.Join(", ", res.TunlbModes.Select(m => $"{m} {res.RatioOf(m):F2}")));
        return res;
    }

    private ForwardingRound ForwardKernel(string conf)
    {
        using var path = KernelPath();
        return Measure("kernel", conf, null, null, false);
    }

    private ForwardingRound ForwardTunlb(string conf, string mode, string io, int workers, bool split)
    {
        using var cpuSplit = SplitIf(split);
        var d = StartDirector($"director-udp-{io}-{workers}w" + (split ? "-split" : ""), _lab.DirectorConfig("udp", 9, io: io, workers: workers), split);
        // Only io = "tun" reads the TUN device; with the others its drop counter says nothing about the director.
        try { return Measure(mode, conf, d, io == "tun" ? "tunlb0" : null, split); }
        finally { if (!d.HasExited) StopDirector(d); }
    }

    private ForwardingRound Measure(string mode, string conf, BackgroundProcess? director, string? tun, bool split)
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
        if (r.ExitCode == 1 && r.Stderr.Contains("Resource temporarily unavailable", StringComparison.Ordinal))
        {
            // trafgen gives up when one TX_RING flush meets a full queue (seen on the loaded 2-core machine): go on
            // with the counters as they are and run again for the rest of the time.
            _o.Log.WriteLine("  (trafgen: TX_RING flush got EAGAIN; continuing)");
            var left = Math.Max(1, _o.ForwardSeconds - (int)sw.Elapsed.TotalSeconds);
            r = T.Try("client", (left + 20) * 1000, Trafgen(conf, left, _o.ForwardMaxPackets));
        }
        double secs = sw.Elapsed.TotalSeconds;
        if (r.ExitCode != 0 && r.ExitCode != 124) throw new InvalidOperationException($"trafgen failed ({r.ExitCode}): {r.Stderr}{r.Stdout}");
        Thread.Sleep(300); // let queues drain
        long sent = BenchProc.Link(T, "client", "eth0").TxPackets - cli0.TxPackets;
        long delivered = RealServerRx() - rx0;
        long tunDrops = tun != null ? BenchProc.Link(T, "director", tun).TxDropped - tun0 : 0;
        double cpu = director != null ? BenchProc.CpuSeconds(director.Pid) - cpu0 : 0;
        string? summary = director != null ? StopDirector(director) : null;
        return new ForwardingRound(mode, sent, delivered, secs, delivered / secs,
            sent > 0 ? 100.0 * (sent - delivered) / sent : 0, cpu, tunDrops, summary, split);
    }
}
