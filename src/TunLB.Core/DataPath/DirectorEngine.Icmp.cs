using TunLB.Core.Connections;
using TunLB.Core.Flows;
using TunLB.Core.Model;
using TunLB.Core.Packets;

namespace TunLB.Core.DataPath;

// ICMP for VIPs (IPVS ip_vs_in_icmp for tunnel mode, Katran handle_icmp): errors go to the flow's real server,
// pings are answered here, and the director itself generates frag-needed / Packet Too Big.
public sealed partial class DirectorEngine
{
    private DropReason ProcessIcmp(ReadOnlySpan<byte> packet, in PacketInfo info, DirectorEngineSnapshot snap, Span<byte> output,
        Span<OutputPacket> packets, long nowMs, out int count)
    {
        count = 0;
        if (!snap.IsVip(info.Flow.Destination)) return Drop(DropReason.NoService);
        DropReason r = Icmp.Classify(packet, in info, out IcmpKind kind, out FlowKey flow);
        if (r != DropReason.None) return Drop(r);

        if (kind == IcmpKind.EchoRequest)
        {
            if (!_answerPing) return Drop(DropReason.IcmpUnsupported);
            if (!_icmpBucket.TryTake(nowMs)) return Drop(DropReason.IcmpRateLimited);
            int n = info.IsV6
                ? Icmp.BuildEchoReplyV6(packet, in info, output, _outerTtl)
                : Icmp.BuildEchoReplyV4(packet, in info, output, ++_ipId, _outerTtl);
            if (n < 0 || packets.Length < 1) return Drop(DropReason.TooBig);
            packets[0] = new OutputPacket { Offset = 0, Length = n, NextHop = info.Flow.Source, Kind = OutputKind.Reply };
            count = 1;
            _icmpGenerated++;
            _answered++;
            return DropReason.None;
        }

        // An error about a packet the VIP sent: the real server of that flow must see it (path MTU, unreachables).
        ConnectionTable table = _table;
        int ci = table.Find(flow);
        int destId;
        if (ci >= 0 && !table.IsExpired(ci, nowMs)) destId = table[ci].DestinationId;
        // The kernel queues an ICMP error by its own addresses, not the quoted flow's: another worker may hold it.
        else if ((destId = PeekPeers(in flow, nowMs)) < 0) return Drop(DropReason.IcmpNoFlow);
        Destination? dest = snap.Destination(destId);
        if (dest is null || !dest.Alive) return Drop(DropReason.DestinationGone);

        // Encapsulated unchanged; hashed like the flow itself, so GUE lands on the flow's receive queue. Never
        // answered with another ICMP error (RFC 1122 3.2.2): a too-big error is fragmented in the outer header.
        var asFlow = info;
        asFlow.Flow = flow;
        asFlow.DontFragment = false;
        r = Forward(packet.Slice(0, info.TotalLength), in asFlow, dest, null, false, output, packets, nowMs, out count);
        if (r == DropReason.None) _icmpForwarded++;
        return r;
    }

    /// <summary>The packet does not fit <paramref name="innerMtu"/>: tell the client (rate-limited) and drop it.</summary>
    private DropReason TooBigForPath(ReadOnlySpan<byte> inner, in PacketInfo info, int innerMtu, Span<byte> output,
        Span<OutputPacket> packets, long nowMs, out int count)
    {
        count = 0;
        if (!_icmpBucket.TryTake(nowMs))
        {
            _icmpSuppressed++; // not a second verdict: the packet is dropped once, as frag_needed
            return Drop(DropReason.FragNeeded);
        }
        int n = info.IsV6
            ? Icmp.BuildPacketTooBigV6(inner, output, info.Flow.Destination, innerMtu, _outerTtl)
            : Icmp.BuildFragNeededV4(inner, output, info.Flow.Destination, (ushort)Math.Clamp(innerMtu, 68, 0xFFFF), ++_ipId, _outerTtl);
        if (n > 0 && packets.Length > 0)
        {
            packets[0] = new OutputPacket { Offset = 0, Length = n, NextHop = info.Flow.Source, Kind = OutputKind.Reply };
            count = 1;
            _icmpGenerated++;
        }
        return Drop(DropReason.FragNeeded);
    }
}
