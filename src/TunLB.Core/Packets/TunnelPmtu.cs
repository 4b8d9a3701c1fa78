using System.Buffers.Binary;
using TunLB.Core.Flows;

namespace TunLB.Core.Packets;

/// <summary>
/// Reads the ICMP "fragmentation needed" errors that routers send back to the director about its own
/// tunnel packets (outer source = director, destination = real server). The kernel does not apply such a
/// path MTU to raw IP_HDRINCL sends, so the director learns it itself and then answers clients with
/// frag-needed of the right size, as IPVS does from the tunnel route's MTU.
/// </summary>
public static class TunnelPmtu
{
    /// <summary>The smallest MTU accepted from an ICMP message (RFC 791's 576; smaller claims are ignored).</summary>
    public const int MinimumMtu = 576;

    /// <summary>
    /// True when <paramref name="packet"/> is an IPv4 ICMP destination-unreachable/fragmentation-needed that quotes
    /// a tunnel packet (IPIP, 6in4 or UDP for GUE); gives the quoted outer destination (the real server) and the
    /// next-hop MTU (clamped up to <see cref="MinimumMtu"/>).
    /// </summary>
    public static bool TryParseFragNeeded(ReadOnlySpan<byte> packet, out IpAddress realServer, out int mtu) =>
        TryParseFragNeeded(packet, out _, out realServer, out mtu);

    /// <summary>As above, also giving the quoted outer source, which must be the director's own address toward
    /// <paramref name="realServer"/> before the caller believes the message (anyone can send ICMP).</summary>
    public static bool TryParseFragNeeded(ReadOnlySpan<byte> packet, out IpAddress tunnelSource, out IpAddress realServer, out int mtu)
    {
        tunnelSource = default; realServer = default; mtu = 0;
        if (packet.Length < 20 || packet[0] >> 4 != 4) return false;
        int ihl = (packet[0] & 0x0F) * 4;
        if (ihl < 20 || packet.Length < ihl + 8 + 20 || packet[9] != IpProtocol.Icmp) return false;
        var icmp = packet.Slice(ihl);
        if (icmp[0] != 3 || icmp[1] != 4) return false;
        var quoted = icmp.Slice(8);
        if (quoted[0] >> 4 != 4 || (quoted[0] & 0x0F) < 5) return false;
        byte proto = quoted[9];
        if (proto != IpProtocol.IpIp && proto != IpProtocol.Ipv6 && proto != IpProtocol.Udp) return false;
        mtu = BinaryPrimitives.ReadUInt16BigEndian(icmp.Slice(6));
        if (mtu == 0)
        {
            // RFC 1191 section 5: an old router reports 0; fall back to the quoted packet's length minus one plateau step.
            int quotedLen = BinaryPrimitives.ReadUInt16BigEndian(quoted.Slice(2));
            mtu = quotedLen > 1500 ? 1492 : quotedLen > 1006 ? 1006 : MinimumMtu;
        }
        if (mtu < MinimumMtu) mtu = MinimumMtu;
        tunnelSource = IpAddress.FromV4Bytes(quoted.Slice(12));
        realServer = IpAddress.FromV4Bytes(quoted.Slice(16));
        return true;
    }

    /// <summary>The smallest IPv6 MTU (RFC 8200); smaller Packet Too Big claims are raised to it.</summary>
    public const int MinimumMtuV6 = 1280;

    /// <summary>
    /// IPv6: true when <paramref name="icmpv6"/> (an ICMPv6 message as an IPv6 raw socket delivers it, without the
    /// IPv6 header) is a Packet Too Big quoting one of our tunnel packets (6in6, 4in6 or UDP for GUE).
    /// </summary>
    public static bool TryParsePacketTooBig(ReadOnlySpan<byte> icmpv6, out IpAddress tunnelSource, out IpAddress realServer, out int mtu)
    {
        tunnelSource = default; realServer = default; mtu = 0;
        if (icmpv6.Length < 8 + 40 || icmpv6[0] != 2 || icmpv6[1] != 0) return false;
        var quoted = icmpv6.Slice(8);
        if (quoted[0] >> 4 != 6) return false;
        byte next = quoted[6];
        if (next != IpProtocol.Ipv6 && next != IpProtocol.IpIp && next != IpProtocol.Udp) return false;
        uint m = BinaryPrimitives.ReadUInt32BigEndian(icmpv6.Slice(4));
        mtu = m < MinimumMtuV6 ? MinimumMtuV6 : m > 65535 ? 65535 : (int)m;
        tunnelSource = IpAddress.FromV6Bytes(quoted.Slice(8));
        realServer = IpAddress.FromV6Bytes(quoted.Slice(24));
        return true;
    }
}
