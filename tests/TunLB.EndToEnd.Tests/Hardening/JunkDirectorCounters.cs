using System.Text.Json;
using System.Text.RegularExpressions;
using TunLB.Core.Packets;

namespace TunLB.EndToEnd.Tests.Hardening;

/// <summary>
/// The director's packet accounting at one moment: the kernel's side of the handover (veth XDP counters of eth0, the TUN
/// device's transmit count) and the process's /metrics. <see cref="Delta"/> gives the change between two readings.
/// </summary>
internal sealed record DirectorCounters(
    long XdpPackets, long VethDrops, long XdpRedirect, long XdpDrops, long TunTx, long TunTxDropped,
    long CaptureSocket, long CaptureTun, long CaptureDropped, long CaptureKernelDropped, long Egress,
    long Received, long Forwarded, long Answered, long[] Drops)
{
    public static DirectorCounters Read(HardeningLab lab)
    {
        var t = lab.T;
        var eth = Regex.Matches(t.Exec("director", "ethtool", "-S", "eth0"), @"(\w+): (\d+)")
            .ToDictionary(m => m.Groups[1].Value, m => long.Parse(m.Groups[2].Value));
        var tun = JsonDocument.Parse(t.Exec("director", "ip", "-j", "-s", "link", "show", "dev", "tunlb0")).RootElement[0]
            .GetProperty("stats64").GetProperty("tx");
        var r = t.Try("director", 30_000, "curl", "-sf", "--max-time", "10", "http://127.0.0.1:9400/metrics");
        if (r.ExitCode != 0) throw new InvalidOperationException($"GET /metrics: {r.ExitCode} {r.Stderr}");
        var m = JunkFloodTests.ParseMetrics(r.Stdout);
        var drops = new long[DropReasons.Count];
        for (int i = 1; i < drops.Length; i++) drops[i] = m.GetValueOrDefault($"tunlb_dropped_packets_total{{reason=\"{DropReasons.Names[i]}\"}}");
        return new DirectorCounters(
            eth.GetValueOrDefault("rx_queue_0_xdp_packets"), eth.GetValueOrDefault("rx_queue_0_drops"),
            eth.GetValueOrDefault("rx_queue_0_xdp_redirect"), eth.GetValueOrDefault("rx_queue_0_xdp_drops"),
            tun.GetProperty("packets").GetInt64(), tun.GetProperty("dropped").GetInt64(),
            JunkFloodTests.Sum(m, "tunlb_capture_packets_total", "source=\"socket\""),
            JunkFloodTests.Sum(m, "tunlb_capture_packets_total", "source=\"tun\""),
            JunkFloodTests.Sum(m, "tunlb_capture_dropped_packets_total"),
            JunkFloodTests.Sum(m, "tunlb_capture_kernel_dropped_packets_total"),
            JunkFloodTests.Sum(m, "tunlb_egress_answers_recorded_total"),
            JunkFloodTests.Sum(m, "tunlb_received_packets_total"),
            JunkFloodTests.Sum(m, "tunlb_worker_forwarded_packets_total"),
            JunkFloodTests.Sum(m, "tunlb_answered_packets_total"),
            drops);
    }

    public DirectorDelta Delta(DirectorCounters before) => new(
        XdpPackets - before.XdpPackets, VethDrops - before.VethDrops, XdpRedirect - before.XdpRedirect, XdpDrops - before.XdpDrops,
        TunTx - before.TunTx, TunTxDropped - before.TunTxDropped, CaptureSocket - before.CaptureSocket, CaptureTun - before.CaptureTun,
        CaptureDropped - before.CaptureDropped, CaptureKernelDropped - before.CaptureKernelDropped, Egress - before.Egress,
        Received - before.Received, Forwarded - before.Forwarded, Answered - before.Answered,
        Drops.Select((v, i) => v - before.Drops[i]).ToArray());
}

internal sealed record DirectorDelta(
    long XdpPackets, long VethDrops, long XdpRedirect, long XdpDrops, long TunTx, long TunTxDropped,
    long CaptureSocket, long CaptureTun, long CaptureDropped, long CaptureKernelDropped, long Egress,
    long Received, long Forwarded, long Answered, long[] Drops)
{
    /// <summary>Engine drops, send_error (an output's fate, not an input's verdict) apart.</summary>
    public long Dropped => Drops.Where((_, i) => i != (int)DropReason.SendError).Sum();
    public int Reasons => Drops.Count(v => v > 0);

    /// <summary>Every packet the kernel handed over is read, and every packet read has one verdict.</summary>
    public bool Balanced =>
        XdpRedirect + TunTx == CaptureSocket + CaptureTun &&
        CaptureSocket + CaptureTun - CaptureDropped == Egress + Received &&
        Received == Forwarded + Answered + Dropped;

    public string Describe() =>
        $"director: eth0 got {XdpPackets} frames at XDP (+{VethDrops} dropped by veth before it), XDP redirected {XdpRedirect} to AF_XDP " +
        $"(xdp_drops {XdpDrops}), the kernel passed {XdpPackets - XdpRedirect - XdpDrops}, of which {TunTx} into tunlb0 (tx_dropped {TunTxDropped}); " +
        $"process read {CaptureSocket} from AF_XDP + {CaptureTun} from TUN, capture dropped {CaptureDropped} (kernel-side {CaptureKernelDropped}), " +
        $"egress records {Egress}; engine received {Received} = forwarded {Forwarded} + answered {Answered} + dropped {Dropped} " +
        $"({string.Join(", ", Drops.Select((v, i) => (v, i)).Where(x => x.v != 0).Select(x => $"{DropReasons.Names[x.i]} {x.v}"))}); balanced: {Balanced}";
}
