namespace TunLB.Control.Configuration;

/// <summary>
/// <c>[director] io</c>: how VIP traffic reaches the workers. Spelled as in <see cref="ConfigNames.Io"/>.
/// </summary>
public enum IoBackend
{
    /// <summary>"tun": VIP routes into the TUN device; the kernel forwards VIP traffic into it.</summary>
    Tun,
    /// <summary>"afpacket": a TPACKET_V2 ring takes VIP traffic off the interfaces; an nftables rule stops the kernel forwarding it.</summary>
    AfPacket,
    /// <summary>"xdp": an XDP program steers the services' packets to AF_XDP sockets, one per receive queue.</summary>
    Xdp,
    /// <summary>"auto" (default): the first of xdp, afpacket, tun that starts on this host.</summary>
    Auto,
}
