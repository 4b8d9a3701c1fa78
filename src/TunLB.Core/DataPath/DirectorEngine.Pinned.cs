using TunLB.Core.Flows;
using TunLB.Core.Model;
using TunLB.Core.Packets;

namespace TunLB.Core.DataPath;

// Pinned flows: the director's own health-check packets, forwarded to the one destination they check.
public sealed partial class DirectorEngine
{
    private volatile PinnedFlows? _pinned;

    /// <summary>The pinned-flow table (null = none). Set once by the health checker before checks run.</summary>
    public PinnedFlows? Pinned
    {
        get => _pinned;
        set => _pinned = value;
    }

    /// <summary>
    /// Encapsulates a pinned packet to its destination. Only packets whose source is the director's own
    /// address toward that destination qualify (a client using a port of the range is scheduled normally).
    /// The destination may be health-down (that is what is being checked) but must still be configured.
    /// Nothing is counted in service or destination stats; <see cref="PinnedFlows.Packets"/> counts them.
    /// </summary>
    private bool TryForwardPinned(ReadOnlySpan<byte> packet, in PacketInfo info, DirectorEngineSnapshot snap, int id,
        Span<byte> output, out int outputLength, out IpAddress nextHop, out DropReason result)
    {
        outputLength = 0;
        nextHop = default;
        result = DropReason.None;
        Destination? dest = snap.Destination(id);
        // Not ours after all (someone else's packet from a port of the range): the normal path handles it.
        if (dest is null || !dest.Alive || dest.OuterSource != info.Flow.Source || info.IsV6) return false;
        // Locally originated: the kernel did not decrement the TTL, so nothing to restore.
        int n = Ipip.EncapsulateV4(packet.Slice(0, info.TotalLength), output, dest.OuterSource.V4, dest.Address.V4, _outerTtl, ++_ipId, 0);
        if (n < 0) { result = Drop(DropReason.TooBig); return true; }
        _pinned!.Packets++;
        _forwardedPackets++;
        outputLength = n;
        nextHop = dest.Address;
        return true;
    }
}
