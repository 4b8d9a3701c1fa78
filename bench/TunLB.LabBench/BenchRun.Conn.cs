using System.Diagnostics;
using System.Text.RegularExpressions;

namespace TunLB.LabBench;

public sealed partial class BenchRun
{
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
        var d = StartDirector("director-syn", _lab.DirectorConfig("tcp", 80, 1_000_000));
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
}
