using TunLB.Core.Flows;

namespace TunLB.Core.Packets;

/// <summary>What the parser learned about one IP packet. A plain struct: parsing allocates nothing.</summary>
public struct PacketInfo
{
    public FlowKey Flow;
    /// <summary>TCP flags byte (FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10); 0 for other protocols.</summary>
    public byte TcpFlags;
    /// <summary>IPv4 TOS, or the IPv6 traffic class.</summary>
    public byte Tos;
    /// <summary>IPv4 TTL, or the IPv6 hop limit.</summary>
    public byte Ttl;
    /// <summary>IPv4 DF. Always false for IPv6 (which routers never fragment; see <see cref="IsV6"/>).</summary>
    public bool DontFragment;
    /// <summary>True for the first fragment of a fragmented datagram (more fragments follow, offset 0).</summary>
    public bool IsFirstFragment;
    /// <summary>IPv4 identification (low 16 bits of <see cref="FragmentId"/> for IPv6).</summary>
    public ushort Identification;
    /// <summary>
    /// IPv4: the IHL in bytes. IPv6: the offset of the transport header, i.e. 40 plus every extension header
    /// the parser walked (including a fragment header).
    /// </summary>
    public int HeaderLength;
    /// <summary>Total length from the IP header (the packet's real length; trailing bytes beyond it are ignored).</summary>
    public int TotalLength;
    public bool IsV6;

    /// <summary>True when the packet is a fragment (first or not): IPv4 MF or offset, or an IPv6 fragment header.</summary>
    public bool IsFragment;
    /// <summary>Fragment offset in bytes (0 for the first fragment and for unfragmented packets).</summary>
    public int FragmentOffset;
    /// <summary>More fragments follow (IPv4 MF, IPv6 M).</summary>
    public bool MoreFragments;
    /// <summary>The fragment's identification: IPv4 16-bit ID, or the IPv6 fragment header's 32-bit one.</summary>
    public uint FragmentId;
    /// <summary>Bytes of fragmentable payload in this packet (after <see cref="HeaderLength"/>).</summary>
    public readonly int PayloadLength => TotalLength - HeaderLength;
}

public static class TcpFlags
{
    public const byte Fin = 0x01, Syn = 0x02, Rst = 0x04, Psh = 0x08, Ack = 0x10;
}

public static class IpProtocol
{
    public const byte Icmp = 1, IpIp = 4, Tcp = 6, Udp = 17, Ipv6 = 41, Icmpv6 = 58;
    /// <summary>IPv6 extension headers the parser walks.</summary>
    public const byte HopByHop = 0, Routing = 43, Fragment = 44, Ah = 51, NoNext = 59, DestinationOptions = 60;
}
