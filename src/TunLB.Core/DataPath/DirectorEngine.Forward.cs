using System.Collections.Frozen;
using System.Runtime.CompilerServices;
using TunLB.Core.Connections;
using TunLB.Core.Flows;
using TunLB.Core.Model;
using TunLB.Core.Packets;

namespace TunLB.Core.DataPath;

// Encapsulating one packet for its real server (or answering it): the outer header, fragments, path MTU.
public sealed partial class DirectorEngine
{
    /// <summary>
    /// Encapsulates <paramref name="inner"/> for <paramref name="dest"/>, enforcing its path MTU: too big with DF
    /// (or IPv6 above 1280 bytes) answers the client with frag-needed / Packet Too Big when
    /// <paramref name="mayAnswer"/>, otherwise the outer packet is fragmented.
    /// </summary>
    private DropReason Forward(ReadOnlySpan<byte> inner, in PacketInfo info, Destination dest, VirtualService? svc, bool mayAnswer,
        Span<byte> output, Span<OutputPacket> packets, long nowMs, out int count)
    {
        count = 0;
        bool outerV6 = !dest.Address.IsV4;
        EncapKind kind = dest.Encap;
        int overhead = Tunnel.Overhead(outerV6, kind);
        int mtu = dest.Mtu;
        // The GUE source port and the IPv6 flow label come from a flow hash; plain IP-in-IP over IPv4 needs neither.
        ushort sport = 0;
        uint label = 0;
        if (outerV6 || kind != EncapKind.Ipip)
        {
            ulong h = FlowHash.Hash(in info.Flow, _seed);
            sport = (ushort)(0xC000 | (int)(h & 0x3FFF));           // 49152..65535, stable per flow
            label = (uint)(h >> 20) & 0xF_FFFF;
        }

        if (mtu > 0 && inner.Length + overhead > mtu)
        {
            if (mayAnswer && (info.IsV6 ? inner.Length > Icmp.Ipv6MinimumMtu : info.DontFragment))
                return TooBigForPath(inner, in info, mtu - overhead, output, packets, nowMs, out count);
            if (packets.Length < 2) return Drop(DropReason.TooBig);
            byte[] scratch = _scratch;
            int whole = Tunnel.Encapsulate(inner, scratch, dest.OuterSource, dest.Address, kind, sport, dest.GuePort,
                dest.GueChecksum, _outerTtl, ++_ipId, label, _innerTtlIncrement);
            if (whole < 0) return Drop(DropReason.TooBig);
            int c = outerV6
                ? Tunnel.FragmentV6(scratch.AsSpan(0, whole), mtu, ++_fragId6, output, packets, dest.Address, OutputKind.Tunnel)
                : Tunnel.FragmentV4(scratch.AsSpan(0, whole), mtu, output, packets, dest.Address, OutputKind.Tunnel);
            if (c < 0) return Drop(DropReason.TooBig);
            count = c;
            _outerFragments += c;
        }
        else
        {
            int n = Tunnel.Encapsulate(inner, output, dest.OuterSource, dest.Address, kind, sport, dest.GuePort,
                dest.GueChecksum, _outerTtl, ++_ipId, label, _innerTtlIncrement);
            if (n < 0 || packets.Length < 1) return Drop(DropReason.TooBig);
            packets[0] = new OutputPacket { Offset = 0, Length = n, NextHop = dest.Address, Kind = OutputKind.Tunnel };
            count = 1;
        }

        if (svc is not null)
        {
            ref WorkerStats ss = ref svc.Stats.Slot(_worker);
            ss.InPackets++;
            ss.InBytes += inner.Length;
        }
        ref WorkerStats ds = ref dest.Stats.Slot(_worker);
        ds.InPackets++;
        ds.InBytes += inner.Length;
        _forwardedPackets++;
        return DropReason.None;
    }
}
