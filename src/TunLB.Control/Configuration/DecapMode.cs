namespace TunLB.Control.Configuration;

/// <summary>Where the real server takes the outer header off (<c>[realserver] decap</c>).</summary>
public enum DecapMode
{
    /// <summary>The agent: raw sockets (and GUE) in user space, the inner packet written into its TUN device.</summary>
    Agent,
    /// <summary>
    /// IP-in-IP of either family in either family (and GUE over IPv4 without UDP checksum) from a director is
    /// decapsulated by an XDP program on the uplinks, in the kernel, before the stack sees it (no user-space work per
    /// packet); everything else (checksummed GUE, outer options or extension headers, fragments) still goes through the agent.
    /// </summary>
    Xdp,
}
