namespace TunLB.LabBench;

/// <summary>The report's CPU-split, real-server-agent and latency tables.</summary>
public static class ReportCpu
{
    private static string F(double v, string fmt = "N0") => Md.F(v, fmt);

    public static void Forwarding(Md md, ForwardingResult f)
    {
        var modes = f.TunlbModes.Where(m => f.Rounds.Any(r => r.Mode == m && r.Split)).ToList();
        if (modes.Count == 0) return;
        md.L("#### Director CPU per forwarded packet: as measured and with the next hop's receive work moved off");
        md.L();
        md.L("*As measured* includes the next hops' receive work, which on veth runs in the director's context; *split* is the same traffic with");
        md.L($"the director pinned to CPU {CpuSplit.DirectorCpu} and RPS on the next hop's receiving veth, so that work runs on the other CPUs.");
        md.L("The difference is what the next hops cost the director on this lab, not what it would cost on hardware. The rates differ too:");
        md.L("in the split runs the director has one CPU and trafgen shares the other with the next hops.");
        md.L();
        md.L("| mode | delivered/s as measured | µs/packet as measured | delivered/s split | µs/packet split | next hops' share moved off |");
        md.L("|---|---:|---:|---:|---:|---:|");
        foreach (var m in modes)
        {
            double a = f.CpuMicros(m, false), s = f.CpuMicros(m, true);
            md.L($"| {m} | {F(f.Mean(m))} | {F(a, "F2")} | {F(f.Mean(m, true))} | {F(s, "F2")} | {(a > 0 ? F((a - s) / a * 100, "F0") + "%" : "—")} |");
        }
        md.L();
    }

    public static void Http(Md md, HttpResult h)
    {
        var modes = h.TunlbModes.ToList();
        if (modes.Count == 0) return;
        md.L("#### Director and real-server agents' CPU per 1000 requests");
        md.L();
        md.L("Director *as measured* includes the next hops' receive work (veth: the sender pays for it); *split*: the director pinned, RPS");
        md.L("on the next hop's receiving veth, so that work runs on the other CPU. Agents = the sum over the `tunlb realserver` processes in");
        md.L("the as-measured runs; their CPU includes the inner packets' trip through the TUN device into their own stack (and, on veth,");
        md.L("nothing of the reply path, which the kernel sends without them).");
        md.L();
        md.L("| mode | director ms/1000 as measured | director ms/1000 split | agents ms/1000 | agents / director (as measured) | agents / director (split) |");
        md.L("|---|---:|---:|---:|---:|---:|");
        foreach (var m in modes)
        {
            double d = h.CpuPer1000(m) * 1000, s = h.CpuPer1000(m, true) * 1000, a = h.AgentCpuPer1000(m) * 1000;
            md.L($"| {m} | {F(d, "F1")} | {(s > 0 ? F(s, "F1") : "—")} | {F(a, "F1")} | {(d > 0 ? F(a / d, "F2") + "×" : "—")} | {(s > 0 ? F(a / s, "F2") + "×" : "—")} |");
        }
        md.L();
    }

    public static void Latency(Md md, LatencyResult lat, string topology)
    {
        md.L($"### Request/response latency ({topology})");
        md.L();
        md.L($"`{lat.SockperfArgs}`: one TCP connection from the client, a {lat.MessageBytes}-byte request and a {lat.MessageBytes}-byte response per round");
        md.L("trip, the next request after the response; `sockperf server` on rs1 (its agent running). Each run follows an unmeasured 1 s run to the");
        md.L("same address. **direct**: to rs1's direct address, no load balancer. **kernel**: to the VIP, forwarded by the director namespace's");
        md.L("kernel (and every router after it) to rs1, which holds the VIP on `lo`: the same hops as the VIP's path with no TunLB.");
        md.L("**tunlb-IO**: to the VIP through the director with that io; the service has rs1 as its only real server, so every path ends at the same");
        md.L("server and the reply takes the same way back (rs1 → inet → client). Added = this row's percentile minus the direct row's");
        md.L("(percentiles averaged over rounds; a difference of percentiles, not a percentile of differences). The VIP path has more hops than the");
        md.L("direct one (the director's namespace, and in the routed topology `core`); *added over kernel* isolates what TunLB adds over plain forwarding.");
        md.L();
        md.L("| mode | round trips | p50 µs | p99 µs | added p50 | added p99 | added p50 over kernel | added p99 over kernel |");
        md.L("|---|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var m in lat.Modes)
        {
            bool direct = m == LatencyResult.Direct, kernel = m == LatencyResult.Kernel;
            double k50 = lat.P50(m) - lat.P50(LatencyResult.Kernel), k99 = lat.P99(m) - lat.P99(LatencyResult.Kernel);
            md.L($"| {m} | {F(lat.Runs.Where(r => r.Mode == m).Sum(r => r.Observations))} | {F(lat.P50(m), "F1")} | {F(lat.P99(m), "F1")} | " +
                 $"{(direct ? "—" : Signed(lat.AddedP50(m)))} | {(direct ? "—" : Signed(lat.AddedP99(m)))} | {(direct || kernel ? "—" : Signed(k50))} | {(direct || kernel ? "—" : Signed(k99))} |");
        }
        md.L();
    }

    private static string Signed(double us) => double.IsNaN(us) ? "?" : (us >= 0 ? "+" : "") + F(us, "F1") + " µs";
}
