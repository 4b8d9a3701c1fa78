namespace TunLB.Control.Configuration;

/// <summary><c>[director] tx</c>: how tunnel packets leave. Spelled as in <see cref="ConfigNames.Tx"/>.</summary>
public enum TxMode
{
    /// <summary>"auto": packets whose next hop is resolved go to the device through AF_PACKET, the rest through the raw socket.</summary>
    Auto,
    /// <summary>"raw": everything through the raw IP socket (and netfilter OUTPUT/POSTROUTING).</summary>
    Raw,
}
