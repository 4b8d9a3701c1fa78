using System.Runtime.CompilerServices;
using TunLB.Core.Connections;
using TunLB.Core.Flows;
using TunLB.Core.Model;
using TunLB.Core.Sync;

namespace TunLB.Core.DataPath;

// Connection sync between directors (docs/connection-sync.md): the data path pushes records of new connections, state
// changes and templates into its SyncQueue; the sync service applies the peers' records through the worker's commands.
public sealed partial class DirectorEngine
{
    private SyncEventQueue? _sync;

    /// <summary>
    /// Where the data path puts the records to send to peer directors (null: no sync). Set before the worker starts.
    /// </summary>
    public SyncEventQueue? SyncQueue { get => _sync; set => _sync = value; }

    /// <summary>Pushes one entry's record; a full queue drops it (counted by the queue). Called on the worker's thread.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)] // once per new connection or state change, not per packet
    private void EmitSync(SyncEventQueue q, in FlowKey key, ConnState state, Destination dest, long timeoutMs)
    {
        q.TryPush(SyncRecord.From(key, state, dest.Address, dest.Port, (uint)Math.Clamp((timeoutMs + 999) / 1000, 1, uint.MaxValue)));
    }

    /// <summary>
    /// Applies a peer director's record to this engine's table, on the worker's thread. The entry gets the real server
    /// with the record's address in the matching service here, the record's state and its timeout from now. An entry this
    /// table lacks is inserted only when <paramref name="insert"/> (the engine chosen for it) and no other worker's table
    /// holds it. Nothing here emits a sync record (no echo back to the peers).
    /// </summary>
    public SyncApplyResult ApplySync(in SyncRecord r, long nowMs, bool insert)
    {
        DirectorEngineSnapshot snap = _snapshot;
        VirtualService? svc = snap.FindService(r.Virtual, r.VirtualPort, r.Protocol) ?? snap.FindService(r.Virtual, 0, r.Protocol);
        if (svc is null) return SyncApplyResult.UnknownService;
        Destination? dest = null;
        foreach (Destination d in svc.Destinations)
        {
            if (d.Address != r.Real || !d.Usable) continue;
            dest = d;
            if (d.Port == r.RealPort) break;
        }
        if (dest is null) return SyncApplyResult.UnknownReal;

        FlowKey key = r.Key;
        ConnState state = r.ConnState;
        long expires = nowMs + Math.Min(r.TimeoutSeconds, (uint)ConfigMaxTimeoutSeconds) * 1000L;
        var observer = new CounterObserver(snap, _atomic);
        ConnectionTable table = _table;
        int ci = table.Find(key);
        if (ci >= 0 && table.IsExpired(ci, nowMs))
        {
            table.Remove(ci, ref observer);
            ci = -1;
        }
        if (ci < 0)
        {
            if (!insert) return SyncApplyResult.NotHere;
            if (_peers is not null && (state == ConnState.Template
                    ? PeekPeerTemplate(in key, nowMs) >= 0 : PeekPeers(in key, nowMs) >= 0))
                return SyncApplyResult.NotHere;
            ci = table.Add(key, nowMs, ref observer);
            if (ci < 0) return SyncApplyResult.TableFull;
            ref ConnEntry fresh = ref table[ci];
            if (state == ConnState.Template)
            {
                fresh.State = ConnState.Template;
                fresh.Flags = ConnFlags.Template;
                fresh.DestinationId = dest.Id;
                Inc(ref dest.PersistentConnections);
            }
            else BindConnection(ci, svc, dest, counted: false);
        }

        ref ConnEntry e = ref table[ci];
        if (e.IsTemplate != (state == ConnState.Template)) return SyncApplyResult.UnknownService; // cannot happen: keys differ
        if (e.DestinationId != dest.Id)
        {
            // The peer bound it elsewhere (both directors scheduled the flow at once): the peer's word wins, as in IPVS.
            observer.OnRemoved(ref e);
            e.DestinationId = dest.Id;
            Inc(ref e.State == ConnState.Template ? ref dest.PersistentConnections
                : ref ConnStates.IsActive(e.State) ? ref dest.ActiveConnections : ref dest.InactiveConnections);
        }
        if (state != ConnState.Template && state != e.State)
        {
            bool wasActive = ConnStates.IsActive(e.State), isActive = ConnStates.IsActive(state);
            if (wasActive != isActive)
            {
                if (isActive) { Inc(ref dest.ActiveConnections); Dec(ref dest.InactiveConnections); }
                else { Dec(ref dest.ActiveConnections); Inc(ref dest.InactiveConnections); }
            }
            e.State = state;
        }
        e.ExpiresAtMs = expires;
        table.Touch(ci);
        return SyncApplyResult.Applied;
    }

    // ConfigLoader.MaxTimeoutSeconds: a longer timeout from a peer is cut to it (its milliseconds fit an Int32).
    private const int ConfigMaxTimeoutSeconds = 2_147_483;

    /// <summary>
    /// Records of every live entry, for a peer's bulk resync (control path, on the worker's thread; allocates).
    /// Timeouts are what is left of each entry's time.
    /// </summary>
    public List<SyncRecord> SyncSnapshot(long nowMs)
    {
        DirectorEngineSnapshot snap = _snapshot;
        var list = new List<SyncRecord>(_table.Count);
        foreach (int i in _table.LiveIndicesOldestFirst())
        {
            ref ConnEntry e = ref _table[i];
            if (_table.IsExpired(i, nowMs) || snap.Destination(e.DestinationId) is not { } d) continue;
            long left = Math.Max(e.ExpiresAtMs - nowMs, 1000);
            list.Add(SyncRecord.From(e.Key, e.State, d.Address, d.Port, (uint)Math.Min((left + 999) / 1000, uint.MaxValue)));
        }
        return list;
    }
}
