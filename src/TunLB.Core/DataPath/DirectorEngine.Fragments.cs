using TunLB.Core.Flows;
using TunLB.Core.Model;
using TunLB.Core.Packets;

namespace TunLB.Core.DataPath;

// Fragments: a non-first fragment has no ports. It follows the first fragment's server through the fragment
// table; when it overtook the first fragment, the server is chosen by a hash of (source, destination, protocol)
// over the service's available destinations and recorded, so the rest of the datagram (the first fragment too)
// follows it.
public sealed partial class DirectorEngine
{
    private DropReason ProcessFragment(ReadOnlySpan<byte> packet, in PacketInfo info, DirectorEngineSnapshot snap, Span<byte> output,
        Span<OutputPacket> packets, long nowMs, out int count)
    {
        count = 0;
        // Reassembled datagram beyond 65535 bytes ("ping of death"): IPv4 counts the header, IPv6 the payload.
        int end = info.FragmentOffset + info.PayloadLength;
        if (end + (info.IsV6 ? info.HeaderLength - Tunnel.Ipv6HeaderLength - Tunnel.Ipv6FragmentHeaderLength : info.HeaderLength) > 0xFFFF)
            return Drop(DropReason.FragmentOversized);

        ref readonly FlowKey f = ref info.Flow;
        DropReason r = _fragments.Lookup(f.Source, f.Destination, f.Protocol, info.FragmentId, info.FragmentOffset,
            info.PayloadLength, nowMs, out int destId);
        if (r != DropReason.None) return Drop(r);

        VirtualService? svc = snap.FindServiceByAddress(f.Destination, f.Protocol);
        Destination? dest = destId >= 0 ? snap.Destination(destId) : null;
        if (dest is null || !dest.Alive)
        {
            if (svc is null) return Drop(DropReason.NoService);
            dest = PickByAddresses(svc, in f);
            if (dest is null) return Drop(DropReason.NoDestination);
            if (destId < 0)
                _fragments.Add(f.Source, f.Destination, f.Protocol, info.FragmentId, info.FragmentOffset, info.PayloadLength, dest.Id, nowMs);
        }
        // A non-first fragment never triggers frag-needed: the ICMP would have to quote the first fragment.
        var asNoDf = info;
        asNoDf.DontFragment = false;
        return Forward(packet.Slice(0, info.TotalLength), in asNoDf, dest, svc, false, output, packets, nowMs, out count);
    }

    /// <summary>Available destination chosen by a hash of (source, destination, protocol); null if none is available.</summary>
    private Destination? PickByAddresses(VirtualService svc, in FlowKey f)
    {
        Destination[] dests = svc.Destinations;
        int available = 0;
        foreach (var d in dests)
            if (d.IsAvailable) available++;
        if (available == 0) return null;
        ulong h = FlowHash.Hash(new FlowKey(f.Source, f.Destination, 0, 0, f.Protocol), _seed);
        int k = (int)(h % (ulong)available);
        foreach (var d in dests)
            if (d.IsAvailable && k-- == 0) return d;
        return null;
    }
}
