using TunLB.Linux;
using TunLB.Linux.Xdp;

namespace TunLB.Director.Workers;

/// <summary>
/// Wiring of the transmit side for <c>tx = "auto"</c>: every worker's <see cref="OutputSender"/> gets
/// <see cref="LinkTransmitters"/>: the TX rings of the AF_XDP sockets it reads (io = "xdp": frames to next hops on the
/// capture device leave through them) and a PACKET_TX_RING for any other device, opened on first use. Whether the
/// kernel takes a PACKET_TX_RING at all is probed once at start on the loopback device, so the startup line and the
/// API name the sender in use; a device that refuses later falls back to sendmmsg and is logged.
/// </summary>
internal static class TxRings
{
    /// <summary>Attaches the rings; returns the startup line's tx part and the API's short name.</summary>
    public static (string Line, string Api) Attach(OutputSender[] txs, NextHopTable hops, IPacketReceiver[] ports, Action<string> log)
    {
        string? refused = Probe();
        int xsk = 0;
        for (int w = 0; w < txs.Length; w++)
        {
            var links = refused is null ? LinkTransmitters.WithPacketRings(log) : new LinkTransmitters(null, log);
            if (w < ports.Length && ports[w] is XdpPort xp)
                foreach (var s in xp.Sockets) { links.Add(new XskTransmitter(s)); xsk++; }
            txs[w].UseLinkLayer(hops, links);
        }
        string ring = refused is null
            ? "PACKET_TX_RING (TPACKET_V2, qdisc bypass, one sendto per batch)"
            : $"AF_PACKET sendmmsg (PACKET_TX_RING refused: {refused})";
        string api = refused is null ? "tx_ring" : "sendmmsg";
        if (xsk > 0)
            return ($"AF_XDP TX rings ({xsk} socket{(xsk == 1 ? "" : "s")}) to next hops on the capture device, {ring} to other resolved next hops, raw IP sockets otherwise",
                    "af_xdp+" + api);
        return ($"{ring} to resolved next hops, raw IP sockets otherwise", api);
    }

    /// <summary>tx = "sendmmsg": AF_PACKET sendmmsg to resolved next hops, no rings.</summary>
    public static (string Line, string Api) AttachSendmmsg(OutputSender[] txs, NextHopTable hops)
    {
        foreach (var t in txs) t.UseLinkLayer(hops);
        return ("AF_PACKET sendmmsg to resolved next hops, raw IP sockets otherwise", "sendmmsg");
    }

    /// <summary>Null when the kernel takes a small TX ring on the loopback device, else why not.</summary>
    private static string? Probe()
    {
        try
        {
            using var r = PacketTxRing.Open(ifindex: 1, mtu: 1500, frames: 8);
            return null;
        }
        catch (Exception e) when (e is NativeErrorException or ArgumentException)
        {
            return e.Message;
        }
    }

    /// <summary>"; tx rings: N frames through tx ring, M through af_xdp" for the exit summary ("" without rings).</summary>
    public static string Summary(OutputSender[] txs)
    {
        var byKind = new SortedDictionary<string, long>(StringComparer.Ordinal);
        long rejected = 0;
        foreach (var t in txs)
        {
            if (t.Links is not { } l) continue;
            foreach (var (kind, frames) in l.Totals()) byKind[kind] = byKind.GetValueOrDefault(kind) + frames;
            rejected += l.Rejected;
        }
        if (byKind.Count == 0) return "";
        return "; transmit rings: " + string.Join(", ", byKind.Select(k => $"{k.Value} frames through {k.Key}")) +
               (rejected > 0 ? $", {rejected} refused by the kernel" : "");
    }
}
