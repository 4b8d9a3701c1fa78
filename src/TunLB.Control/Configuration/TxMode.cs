namespace TunLB.Control.Configuration;

/// <summary><c>[director] tx</c>: how tunnel packets leave. Spelled as in <see cref="ConfigNames.Tx"/>.</summary>
public enum TxMode
{
    /// <summary>
    /// "auto": packets whose next hop is resolved go to the device with AF_PACKET sendmmsg (through its qdisc, seen by
    /// tcpdump), the rest through the raw socket. The rings are not the default: they measured no clear gain here and
    /// hide the director's egress from tcpdump and tc.
    /// </summary>
    Auto,
    /// <summary>"raw": everything through the raw IP socket (and netfilter OUTPUT/POSTROUTING).</summary>
    Raw,
    /// <summary>"sendmmsg": the same as auto today (AF_PACKET sendmmsg to resolved next hops).</summary>
    Sendmmsg,
    /// <summary>
    /// "ring": resolved next hops through a transmit ring (the AF_XDP socket's with io = "xdp" on the capture device,
    /// else PACKET_TX_RING with PACKET_QDISC_BYPASS), sendmmsg where the kernel refuses a ring.
    /// </summary>
    Ring,
}
