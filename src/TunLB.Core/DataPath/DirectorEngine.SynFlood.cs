using System.Runtime.CompilerServices;
using TunLB.Core.Connections;
using TunLB.Core.Flows;
using TunLB.Core.Model;
using TunLB.Core.Packets;

namespace TunLB.Core.DataPath;

// The SYN flood defence (docs/robustness.md): half-open entries are evicted first (ConnectionTable.HalfOpen.cs); above
// syn_flood_rate new connections per second the worker shortens SYN_RECV timeouts (IPVS secure_tcp) and/or schedules
// new SYNs by a hash of the flow without inserting them (Katran).
public sealed partial class DirectorEngine
{
    private readonly SynFloodGuard _synFlood;
    private long _statelessScheduled, _statelessAdopted;

    /// <summary>This worker's SYN flood detector (engaged state, engagements).</summary>
    public SynFloodGuard SynFlood => _synFlood;

    /// <summary>SYNs forwarded without a table entry while the stateless defence was engaged.</summary>
    public long StatelessScheduled => _statelessScheduled;

    /// <summary>Handshake-completing segments without an entry scheduled by the same flow hash (and then inserted).</summary>
    public long StatelessAdopted => _statelessAdopted;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool StatelessEngaged(VirtualService svc, long nowMs) =>
        _synFlood.OnNewConnection(nowMs) && (_synFlood.Options.Mode & SynFloodMode.Stateless) != 0 && svc.PersistenceSeconds == 0;

    /// <summary>
    /// A segment without SYN and without an entry may complete a handshake whose SYN went out statelessly: while the
    /// defence is engaged, or within a SYN_RECV timeout after (a handshake completes within that or not at all).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool StatelessAdoptable(VirtualService svc, long nowMs) =>
        (_synFlood.Options.Mode & SynFloodMode.Stateless) != 0 && svc.PersistenceSeconds == 0 &&
        _synFlood.ActiveWithin(nowMs, _timeouts[ConnState.SynRecv]);

    /// <summary>The SYN_RECV timeout, short while the defence is engaged with short_synrecv.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private long SynRecvTimeout(long configured) =>
        _synFlood.Active && (_synFlood.Options.Mode & SynFloodMode.ShortSynRecv) != 0 && _synFlood.Options.ShortSynRecvMs < configured
            ? _synFlood.Options.ShortSynRecvMs : configured;

    private DropReason ForwardStateless(ReadOnlySpan<byte> packet, in PacketInfo info, VirtualService svc,
        Span<byte> output, Span<OutputPacket> packets, long nowMs, out int count)
    {
        count = 0;
        Destination? dest = StatelessPick(svc, in info.Flow);
        if (dest is null) return Drop(DropReason.NoDestination);
        _statelessScheduled++;
        return Forward(packet.Slice(0, info.TotalLength), in info, dest, svc, true, output, packets, nowMs, out count);
    }

    /// <summary>
    /// The destination of a flow that depends only on the flow and the destination set: the service's own scheduler when
    /// it is a consistent hash (sh, dh, mh), otherwise the flow hash over the available destinations' weights.
    /// </summary>
    internal Destination? StatelessPick(VirtualService svc, in FlowKey flow)
    {
        if (svc.Scheduler.IsConsistentHash) return svc.Scheduler.Schedule(flow, svc.Destinations);
        Destination[] ds = svc.Destinations;
        long total = 0;
        foreach (Destination d in ds)
            if (d.IsAvailable) total += d.Weight;
        if (total <= 0) return null;
        long x = (long)(FlowHash.Hash(in flow, _seed ^ 0x53594E) % (ulong)total);
        foreach (Destination d in ds)
        {
            if (!d.IsAvailable) continue;
            x -= d.Weight;
            if (x < 0) return d;
        }
        return null;
    }
}
