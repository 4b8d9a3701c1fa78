using TunLB.Core.Flows;

namespace TunLB.Core.Packets;

/// <summary>What the parser learned about one IP packet. A plain struct: parsing allocates nothing.</summary>
public struct PacketInfo
{
    public FlowKey Flow;
    /// <summary>TCP flags byte (FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10); 0 for other protocols.</summary>
    public byte TcpFlags;
    public byte Tos;
    public byte Ttl;
    public bool DontFragment;
    /// <summary>True for the first fragment of a fragmented datagram (MF set, offset 0).</summary>
    public bool IsFirstFragment;
    public ushort Identification;
    public int HeaderLength;
    /// <summary>Total length from the IP header (the packet's real length; trailing bytes beyond it are ignored).</summary>
    public int TotalLength;
    public bool IsV6;
}

public static class TcpFlags
{
    public const byte Fin = 0x01, Syn = 0x02, Rst = 0x04, Psh = 0x08, Ack = 0x10;
}

public static class IpProtocol
{
    public const byte Icmp = 1, IpIp = 4, Tcp = 6, Udp = 17, Ipv6 = 41, Icmpv6 = 58;
}
