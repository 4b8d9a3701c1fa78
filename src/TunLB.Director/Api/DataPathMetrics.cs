using TunLB.Director.Management;

namespace TunLB.Director.Api;

/// <summary>
/// The families that account for every packet the director reads (docs/robustness.md, junk flood): what the capture
/// read and lost, what the engines received, and the verdicts besides forwarded and dropped. Every engine input has
/// exactly one verdict: received = forwarded + answered + dropped (all reasons but send_error).
/// </summary>
internal static class DataPathMetrics
{
    public static void Render(Metrics.Writer w, DirectorState state)
    {
        long received = 0, answered = 0, suppressed = 0;
        foreach (var e in state.Engines) { received += e.Received; answered += e.Answered; suppressed += e.IcmpSuppressed; }
        w.Counter("tunlb_received_packets_total", "Packets the data-path engines processed (each has one verdict: forwarded, answered or dropped).", received);
        w.Counter("tunlb_answered_packets_total", "Packets the director answered itself instead of forwarding (echo requests to a VIP).", answered);
        w.Counter("tunlb_icmp_suppressed_total", "Frag-needed / Packet Too Big messages not sent because of icmp_rate (the packet counts as frag_needed).", suppressed);
        w.Counter("tunlb_egress_answers_recorded_total", "ICMP errors quoting an egress-check probe, recorded instead of processed.", state.Egress.Recorded);

        if (state.CaptureCounters?.Invoke() is not { } c) return;
        string b = "{backend=\"" + c.Backend + "\"";
        w.Family("tunlb_capture_packets_total", "counter", "Packets the capture read: AF_XDP descriptors or ring frames (source=socket), and from the TUN device beside them (source=tun).");
        w.Sample(b + ",source=\"socket\"}", c.Received);
        w.Sample(b + ",source=\"tun\"}", c.FromTun);
        w.Family("tunlb_capture_dropped_packets_total", "counter", "Packets the capture read but could not hand to a worker, by reason.");
        w.Sample(b + ",reason=\"truncated\"}", c.DroppedTruncated);
        w.Sample(b + ",reason=\"malformed\"}", c.DroppedMalformed);
        w.Sample(b + ",reason=\"unsupported\"}", c.DroppedUnsupported);
        w.Family("tunlb_capture_kernel_dropped_packets_total", "counter", "Packets the kernel lost before the capture could read them (AF_XDP rx_dropped + rx_ring_full, ring full).");
        w.Sample(b + "}", c.KernelDropped);
        w.Family("tunlb_capture_gso_super_packets_total", "counter", "GSO super-packets the ring cut into segments (afpacket).");
        w.Sample(b + "}", c.SuperPackets);
        w.Family("tunlb_capture_gso_segments_total", "counter", "Segments the ring made of GSO super-packets (afpacket).");
        w.Sample(b + "}", c.Segments);
    }
}
