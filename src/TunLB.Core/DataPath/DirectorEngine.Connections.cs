using System.Collections.Frozen;
using System.Runtime.CompilerServices;
using TunLB.Core.Connections;
using TunLB.Core.Flows;
using TunLB.Core.Model;
using TunLB.Core.Packets;

namespace TunLB.Core.DataPath;

// New connections: scheduling, binding an entry to its real server, and the connection gauges (active/inactive).
public sealed partial class DirectorEngine
{
    private DropReason NewConnection(VirtualService svc, in FlowKey flow, ulong flowHash, long nowMs, ref CounterObserver observer,
        out int index, out Destination? dest, bool stateless = false)
    {
        index = -1;
        dest = stateless ? StatelessPick(svc, in flow) : svc.Scheduler.Schedule(flow, svc.Destinations);
        if (dest is null) return DropReason.NoDestination;
        if (stateless) _statelessAdopted++;
        index = _table.Add(flow, flowHash, nowMs, ref observer);
        if (index < 0) return DropReason.ConnTableFull;
        BindConnection(index, svc, dest);
        return DropReason.None;
    }

    /// <summary>
    /// Fills a freshly added connection entry and counts it (state None: inactive). An entry adopted from a peer
    /// worker (<paramref name="counted"/> false) is an entry (inactive/active) but not another scheduled connection.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void BindConnection(int index, VirtualService svc, Destination dest, bool counted = true)
    {
        ref ConnEntry e = ref _table[index];
        e.DestinationId = dest.Id;
        e.State = ConnState.None;
        e.Flags = ConnFlags.InputOnly;
        Inc(ref dest.InactiveConnections);
        if (!counted) return;
        dest.Stats.Slot(_worker).Connections++;
        svc.Stats.Slot(_worker).Connections++;
    }

    /// <summary>A shared connection counter: Interlocked when several workers share the destinations.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Inc(ref int counter)
    {
        if (_atomic) Interlocked.Increment(ref counter);
        else counter++;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Dec(ref int counter)
    {
        if (_atomic) Interlocked.Decrement(ref counter);
        else counter--;
    }

    /// <summary>Undoes a removed entry's contribution to its destination's counters.</summary>
    private readonly struct CounterObserver : IConnectionObserver
    {
        private readonly DirectorEngineSnapshot _snapshot;
        private readonly bool _atomic;
        public CounterObserver(DirectorEngineSnapshot snapshot, bool atomic)
        {
            _snapshot = snapshot;
            _atomic = atomic;
        }

        public void OnRemoved(ref ConnEntry entry)
        {
            Destination? d = _snapshot.Destination(entry.DestinationId);
            if (d is null) return; // deleted from the configuration: nobody reads its counters any more
            ref int c = ref entry.State == ConnState.Template ? ref d.PersistentConnections
                : ref ConnStates.IsActive(entry.State) ? ref d.ActiveConnections : ref d.InactiveConnections;
            if (_atomic) Interlocked.Decrement(ref c);
            else c--;
        }
    }
}
