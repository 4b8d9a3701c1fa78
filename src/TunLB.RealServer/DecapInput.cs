namespace TunLB.RealServer;

/// <summary>What a receiver's datagrams are, which selects the <see cref="TunLB.Core.DataPath.DecapFilter"/> entry point.</summary>
public enum DecapInput
{
    /// <summary>Whole IPv4 packets, outer header included (raw IPv4 socket): <c>DecapFilter.Check</c>.</summary>
    Ipv4Packet,
    /// <summary>Tunnel payloads without the outer IPv6 header, with the sender (raw IPv6 socket): <c>DecapFilter.CheckPayload</c>.</summary>
    Ipv6Payload,
    /// <summary>UDP payloads on the GUE port, with the sender: <c>DecapFilter.CheckGue</c>.</summary>
    Gue,
}
