namespace TunLB.Control.Configuration;

/// <summary>
/// <c>[director] io</c>: how VIP traffic reaches the workers. Spelled as in <see cref="ConfigNames.Io"/>; "xdp" and
/// "auto" (pick the best the host supports) will join here.
/// </summary>
public enum IoBackend
{
    /// <summary>"tun": VIP routes into the TUN device; the kernel forwards VIP traffic into it.</summary>
    Tun,
    /// <summary>"afpacket": a TPACKET_V2 ring takes VIP traffic off the interfaces; an nftables rule stops the kernel forwarding it.</summary>
    AfPacket,
}
