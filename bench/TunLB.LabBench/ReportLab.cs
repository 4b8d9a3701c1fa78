namespace TunLB.LabBench;

/// <summary>The namespace-benchmark sections of docs/performance.md, one call per topology.</summary>
public static class ReportLab
{
    public static void Write(Md md, LabBenchResult lab)
    {
        void L(string s = "") => md.L(s);
        string F(double v, string fmt = "N0") => Md.F(v, fmt);
        {
            L($"## Namespace benchmarks, {lab.Topology} topology");
            L();
            L($"Topology (`bench/TunLB.LabBench/BenchTopology.cs`), {lab.TopologyDescription ?? BenchTopology.FlatDescription}");
            L("Replies never cross the director. VIP 203.0.113.10 is routed by inet to the director. All namespaces, processes and devices");
            L($"carry a per-run prefix and are removed at the end, also on failure or Ctrl-C. io backends measured: {string.Join(", ", lab.Ios ?? ["tun", "afpacket"])} (the first is the default here).");
            L();
            L("**What the director's CPU includes.** CPU = utime+stime of the director process from `/proc/PID/stat`. On veth the kernel");
            L("delivers a sent packet synchronously in the sender's context, so *as measured* the director pays for the next hops' receive work");
            L($"(the {(lab.Topology == BenchTopology.Routed ? "core and dc routers' forwarding and the real server's receive" : "bridge, and the real server's receive")}) — work a real NIC would leave to other machines.");
            L("The *split* rows run the same mode with the director pinned to the last CPU (`taskset`) and RPS on the next hop's receiving veth");
            L("steering to the other CPUs: that receive work then runs there (via IPI) and the director's figure is its own work up to the veth's transmit.");
            L();
            if (lab.Forwarding is { } f)
            {
                L($"### Small-packet forwarding ({lab.Topology})");
                L();
                L($"trafgen sends {f.FrameBytes}-byte frames (64 on the wire with FCS: 46-byte IPv4/UDP, 18 bytes payload) to VIP:9 from {F(f.SourcePorts)} source ports as fast as");
                L("it can (one CPU), bounded in packets and seconds. Delivered = rx packets on the real servers' `eth0` (`ip -s -j link`), which is");
                L("what the director delivered (the real-server agent is not running: the benchmark measures the director). **Baseline**: the");
                L("same traffic on the same topology with plain kernel forwarding: the director namespace routes the VIP to rs1, which holds");
                L("it on `lo`; TunLB not running. In every mode the real servers are sinks: an nftables netdev ingress rule drops IPv4 on their");
                L("`eth0` after the interface counted it, so no mode pays for their stack (ICMP unreachable answers) in the sender's context.");
                L("Every round follows an unmeasured warm-up (100,000 packets at 100,000/s).");
                L();
                L("`tunlb-IO` is TunLB with `io = \"IO\"`: `tun` (the kernel forwards the VIP into the TUN device), `afpacket` (a TPACKET_V2 ring takes");
                L("the frames off `eth0`), `xdp`/`auto` where given; the TUN queue-drop column applies to `tun` only. Tunnel packets leave with");
                L("`tx = \"auto\"` (straight to the device for resolved next hops) in every TunLB row. `split` = director pinned, RPS on the next hop (see above).");
                L();
                L("| mode | round | sent | delivered | seconds | delivered/s | loss | director CPU s | µs/packet | TUN queue drops |");
                L("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
                var round = new Dictionary<string, int>();
                foreach (var r in f.Rounds)
                {
                    string key = r.Mode + (r.Split ? " split" : "");
                    L($"| {key} | {(round[key] = round.GetValueOrDefault(key) + 1)} | {F(r.Sent)} | {F(r.Delivered)} | {F(r.Seconds, "F2")} | {F(r.DeliveredPps)} | {F(Math.Max(0, r.LossPercent), "F1")}% | {(r.Mode != ForwardingResult.Kernel ? F(r.DirectorCpuSeconds, "F2") : "—")} | {(r.Mode != ForwardingResult.Kernel ? F(r.CpuMicrosPerPacket, "F2") : "—")} | {(r.Mode.StartsWith("tunlb-tun", StringComparison.Ordinal) ? F(r.TunQueueDrops) : "—")} |");
                }
                L();
                if (f.Rounds.Any(r => r.Mode.EndsWith("w", StringComparison.Ordinal)))
                {
                    L("`-Nw` rows run the director with `workers = N` (N TUN queues or N capture rings in one fanout group, N worker threads,");
                    L("N engines). On this 2-core machine trafgen occupies one core, so a second worker competes with it and with the kernel's");
                    L("forwarding work for the other.");
                    L();
                }
                L("**Ratio TunLB / kernel: " + string.Join(", ", f.TunlbModes.Where(m => f.Mean(m) > 0).Select(m => $"{m} {F(f.RatioOf(m), "F2")}")) +
                  ".** Director stop summaries: " + string.Join("; ", f.Rounds.Where(r => r.DirectorSummary != null).Select(r => $"{r.Mode}{(r.Split ? " split" : "")}: `{r.DirectorSummary}`")));
                L();
                ReportCpu.Forwarding(md, f);
            }
            if (lab.Http is { } hh)
            {
                L($"### HTTP, 100 kB responses ({lab.Topology})");
                L();
                L($"`wrk {hh.WrkArgs}` from the client to `/blob` ({F(hh.ResponseBytes)} bytes) on nginx in each real server (1 worker, `sendfile`,");
                L("listening on the VIP and on its own address; TunLB real-server agent running). **tunlb-IO** (`io = \"IO\"`)");
                L(": through the VIP (the director sees only the client→server half; replies go from the real servers straight to the client). **haproxy** (`mode tcp`, roundrobin,");
                L("default threads) and **nginx-stream** (`stream { proxy_pass }`, `worker_processes auto`) run in the director namespace, the");
                L("client connects to 203.0.113.2:8001/8002 and the proxies connect to the real servers' own addresses. CPU = utime+stime from");
                L("`/proc/PID/stat`, summed over the process tree, before/after the wrk run. **direct**: the client connects straight to rs1");
                L("at its direct address, no load balancer (one server instead of the set, so its requests/s are a reference, not a ceiling). Every run follows");
                L("a 2 s unmeasured `wrk` warm-up against the same URL.");
                L();
                L("Agents CPU = the real-server agents' utime+stime (sum over the `tunlb realserver` processes: they take the tunnel packets off a");
                L("raw socket and hand the inner packets to the stack) over the same run.");
                L();
                L("| mode | process | requests/s | requests | transfer | errors | CPU s | CPU ms per 1000 requests | agents CPU s | agents ms per 1000 |");
                L("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
                foreach (var r in hh.Runs)
                    L($"| {r.Mode}{(r.Split ? " split" : "")} | {r.Process} | {F(r.RequestsPerSecond)} | {F(r.Requests)} | {r.WrkTransfer} | {F(r.Errors)} | {(r.Mode == "direct" ? "—" : F(r.CpuSeconds, "F2"))} | {(r.Mode == "direct" ? "—" : F(r.CpuSecondsPer1000 * 1000, "F1"))} | {F(r.AgentCpuSeconds, "F2")} | {F(r.AgentCpuSecondsPer1000 * 1000, "F1")} |");
                L();
                if (hh.Rps("haproxy") > 0)
                {
                    L("| ratio vs HAProxy | requests/s | CPU per 1000 requests |");
                    L("|---|---:|---:|");
                    foreach (var mode in hh.TunlbModes.Concat(["nginx-stream", "direct"]))
                        if (hh.Rps(mode) > 0)
                            L($"| {mode} | {F(hh.Rps(mode) / hh.Rps("haproxy"), "F2")}× | {(mode == "direct" ? "—" : F(hh.CpuPer1000(mode) / hh.CpuPer1000("haproxy"), "F2") + "×")} |");
                    L();
                }
                ReportCpu.Http(md, hh);
            }
            if (lab.Latency is { } lat) ReportCpu.Latency(md, lat, lab.Topology);
            if (lab.ConnRate is { } c)
            {
                L($"### New connections with the table filling toward 1,000,000 ({lab.Topology})");
                L();
                L($"trafgen sends {F(c.Sent)} TCP SYNs to VIP:80, each of a distinct flow (source 198.51.100.16–31 × ports 1024–65534, {F(c.DistinctFlows)} distinct),");
                L($"at a bounded {F(c.OfferedPps)} SYNs/s (`trafgen -b`), to a director with `conn_max = 1000000` (default `io = \"tun\"`), so the table fills to its limit and then evicts;");
                L("the real servers only count (no agent; an nftables ingress rule drops after counting). Delivered below sent is loss: in the capture queue (director too slow or late) or director drops.");
                L();
                L($"* delivered {F(c.Delivered)} of {F(c.Sent)} sent in {F(c.Seconds, "F1")} s; held **{F(c.PacketsPerSecond)} new connections/s** (delivered over the time until the last one arrived, 1 s samples)");
                L($"* connections in the table at the end: {F(c.InTable)}; director drops: `{c.Drops}`; capture queue drops (TUN queue or AF_PACKET ring full: director too slow or late): {F(c.TunQueueDrops)}");
                L($"* director RSS: {F(c.RssAtStart / 1048576.0, "F0")} MiB after start (table preallocated and touched) → {F(c.RssAtEnd / 1048576.0, "F0")} MiB at the end; director CPU {F(c.DirectorCpuSeconds, "F2")} s = {F(c.Delivered > 0 ? c.DirectorCpuSeconds / c.Delivered * 1e6 : 0, "F2")} µs per new connection");
                L();
                L("| t (s) | delivered so far | new connections/s | director RSS (MiB) |");
                L("|---:|---:|---:|---:|");
                foreach (var s in c.Samples) L($"| {F(s.Seconds, "F1")} | {F(s.Delivered)} | {F(s.PacketsPerSecond)} | {F(s.DirectorRssBytes / 1048576.0, "F0")} |");
                L();
                L($"Director summary: `{c.DirectorSummary}`");
                L();
            }
            if (lab.Errors.Count > 0)
            {
                L($"### Errors in this run ({lab.Topology})");
                L();
                foreach (var e in lab.Errors) L($"* {e}");
                L();
            }
            L($"### Commands ({lab.Topology})");
            L();
            L("Run by `TunLB.LabBench lab` (configs are written per run into a temporary directory):");
            L();
            L("```");
            foreach (var cmd in lab.Commands) L(cmd);
            L("```");
            L();
        }
    }
}
