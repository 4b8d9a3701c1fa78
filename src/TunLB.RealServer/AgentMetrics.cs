using System.Globalization;
using System.Text;
using TunLB.Core.Packets;

namespace TunLB.RealServer;

/// <summary>
/// The agent's counters in Prometheus text format (GET /metrics on <c>[realserver] metrics</c>), per receiver
/// (ipip = raw4/4, raw4/41, raw6/4, raw6/41, gue/PORT): every datagram a receiver read has one verdict,
/// received = accepted + dropped (by reason), and every accepted one was injected or failed to be.
/// </summary>
public static class AgentMetrics
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    public static string Render(IReadOnlyList<(string Name, DecapWorker Worker)> receivers, (long Packets, long Bytes)? xdp = null)
    {
        var sb = new StringBuilder();
        void Family(string name, string type, string help) =>
            sb.Append("# HELP ").Append(name).Append(' ').Append(help).Append("\n# TYPE ").Append(name).Append(' ').Append(type).Append('\n');
        void Sample(string name, string labels, long value) =>
            sb.Append(name).Append('{').Append(labels).Append("} ").Append(value.ToString(CultureInfo.InvariantCulture)).Append('\n');

        const string received = "tunlb_realserver_received_packets_total", accepted = "tunlb_realserver_accepted_packets_total",
            dropped = "tunlb_realserver_dropped_packets_total", injected = "tunlb_realserver_injected_packets_total",
            errors = "tunlb_realserver_inject_errors_total", batches = "tunlb_realserver_receive_batches_total";
        Family(received, "counter", "Datagrams a receiver read from its socket (accepted + dropped).");
        foreach (var (n, w) in receivers) Sample(received, Receiver(n), Volatile.Read(ref w.Filter.Drops[0]) + w.Filter.Dropped);
        Family(accepted, "counter", "Datagrams from a director carrying a packet for a VIP.");
        foreach (var (n, w) in receivers) Sample(accepted, Receiver(n), Volatile.Read(ref w.Filter.Drops[0]));
        Family(dropped, "counter", "Datagrams dropped by the decapsulation filter, by reason.");
        foreach (var (n, w) in receivers)
            for (int i = 1; i < DropReasons.Count; i++)
                Sample(dropped, Receiver(n) + ",reason=\"" + DropReasons.Names[i] + "\"", Volatile.Read(ref w.Filter.Drops[i]));
        Family(injected, "counter", "Inner packets written into the TUN device.");
        foreach (var (n, w) in receivers) Sample(injected, Receiver(n), Volatile.Read(ref w.Injected));
        Family(errors, "counter", "Accepted inner packets the TUN device refused.");
        foreach (var (n, w) in receivers) Sample(errors, Receiver(n), Volatile.Read(ref w.InjectErrors));
        Family(batches, "counter", "Receive calls (recvmmsg) that returned datagrams.");
        foreach (var (n, w) in receivers) Sample(batches, Receiver(n), Volatile.Read(ref w.Batches));
        if (xdp is { } x)
        {
            const string xp = "tunlb_realserver_xdp_decapsulated_packets_total", xb = "tunlb_realserver_xdp_decapsulated_bytes_total";
            Family(xp, "counter", "IP-in-IP packets (both families) the XDP program decapsulated in the kernel (decap = \"xdp\"); no receiver saw them.");
            sb.Append(xp).Append(' ').Append(x.Packets.ToString(CultureInfo.InvariantCulture)).Append('\n');
            Family(xb, "counter", "Inner bytes (IP total length) of those packets.");
            sb.Append(xb).Append(' ').Append(x.Bytes.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }
        return sb.ToString();
    }

    private static string Receiver(string name) => "receiver=\"" + name + "\"";
}
