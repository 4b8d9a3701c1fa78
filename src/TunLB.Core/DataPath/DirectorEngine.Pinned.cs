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
        Span<byte> output, Span<OutputPacket> packets, long nowMs, out int count, out DropReason result)
    {
        count = 0;
        result = DropReason.None;
        Destination? dest = snap.Destination(id);
        // Not ours after all (someone else's packet from a port of the range): the normal path handles it.
        if (dest is null || !dest.Alive || dest.OuterSource != info.Flow.Source) return false;
        Interlocked.Increment(ref _pinned!.Packets); // shared by all workers; health checks are few
        // No service: nothing counted in service stats, no ICMP answers generated for our own packets.
        result = Forward(packet.Slice(0, info.TotalLength), in info, dest, null, false, output, packets, nowMs, out count);
        return true;
    }
}
