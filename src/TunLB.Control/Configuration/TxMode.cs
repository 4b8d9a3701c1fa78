namespace TunLB.Control.Configuration;

/// <summary><c>[director] tx</c>: how tunnel packets leave. Spelled as in <see cref="ConfigNames.Tx"/>.</summary>
public enum TxMode
{
    /// <summary>
    /// "auto": packets whose next hop is resolved go to the device through a transmit ring (the AF_XDP socket's with
    /// io = "xdp" on the capture device, else PACKET_TX_RING), or AF_PACKET sendmmsg where the kernel refuses a ring;
    /// the rest through the raw socket.
    /// </summary>
    Auto,
    /// <summary>"raw": everything through the raw IP socket (and netfilter OUTPUT/POSTROUTING).</summary>
    Raw,
    /// <summary>"sendmmsg": as auto without transmit rings (AF_PACKET sendmmsg to resolved next hops).</summary>
    Sendmmsg,
}
