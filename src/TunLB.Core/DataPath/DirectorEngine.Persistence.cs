using TunLB.Core.Connections;
using TunLB.Core.Flows;
using TunLB.Core.Model;
using TunLB.Core.Packets;

namespace TunLB.Core.DataPath;

// Persistence (ipvsadm -p): a template entry remembers which destination a client network was sent to.
public sealed partial class DirectorEngine
{
    /// <summary>
    /// The key of the persistence template for <paramref name="flow"/>: client address masked by the
    /// service's persistence prefix, the VIP, the service port, protocol 0 (which no real flow has, so
    /// templates and connections never collide). The otherwise unused client-port field carries the
    /// service protocol, so a TCP and a UDP service on the same VIP and port keep separate templates.
    /// </summary>
    public static FlowKey TemplateKey(VirtualService svc, in FlowKey flow) =>
        new(flow.Source.Mask(svc.PersistencePrefix), flow.Destination, svc.Key.Protocol, flow.DestinationPort, 0);

    private DropReason NewPersistentConnection(VirtualService svc, DirectorEngineSnapshot snap, in FlowKey flow, long nowMs,
        ref CounterObserver observer, out int index, out Destination? dest)
    {
        index = -1;
        dest = null;
        ConnectionTable table = _table;
        FlowKey templateKey = TemplateKey(svc, flow);
        bool templateBound = true; // a new or rebound template (sent to peer directors)

        int ti = table.Find(templateKey);
        if (ti >= 0 && table.IsExpired(ti, nowMs))
        {
            table.Remove(ti, ref observer);
            ti = -1;
        }

        if (ti >= 0)
        {
            ref ConnEntry t = ref table[ti];
            Destination? bound = snap.Destination(t.DestinationId);
            if (bound is not null && bound.Usable && !(_expireQuiescentTemplate && bound.Weight <= 0))
            {
                dest = bound;
                templateBound = false;
            }
            else
            {
                // Stale template (its server is gone, or quiescent with ExpireQuiescentTemplate): schedule
                // anew and rebind the template in place. Connections it still controls keep their own
                // destination; they only keep the template alive.
                dest = svc.Scheduler.Schedule(flow, svc.Destinations);
                if (dest is null) return DropReason.NoDestination;
                if (bound is not null) Dec(ref bound.PersistentConnections);
                t.DestinationId = dest.Id;
                Inc(ref dest.PersistentConnections);
            }
        }
        else
        {
            // Another worker's live template for this client (its connections from other ports were queued there):
            // follow it, so persistence holds across workers as with IPVS's one global table.
            if (_peers is not null && PeekPeerTemplate(in templateKey, nowMs) is var peerDest && peerDest >= 0 &&
                snap.Destination(peerDest) is { Usable: true } adopted && !(_expireQuiescentTemplate && adopted.Weight <= 0))
            {
                dest = adopted;
                _peerAdopted++;
            }
            else dest = svc.Scheduler.Schedule(flow, svc.Destinations);
            if (dest is null) return DropReason.NoDestination;
            ti = table.Add(templateKey, nowMs, ref observer);
            if (ti < 0) return DropReason.ConnTableFull;
            ref ConnEntry t = ref table[ti];
            t.State = ConnState.Template;
            t.Flags = ConnFlags.Template;
            t.DestinationId = dest.Id;
            t.ExpiresAtMs = nowMs + svc.PersistenceSeconds * 1000L;
            Inc(ref dest.PersistentConnections);
        }

        index = table.AddControlled(flow, ti, nowMs, ref observer);
        if (index < 0) return DropReason.ConnTableFull;
        BindConnection(index, svc, dest);

        // The template lives for the persistence timeout after the last connection it let through
        // (and, through its controlled count, at least as long as those connections). Connections leave
        // the count when they are removed, by the sweep (Expire) or when a packet finds them timed out;
        // so a template can outlive its controlled connections' timeouts by up to one sweep period.
        table[ti].ExpiresAtMs = nowMs + svc.PersistenceSeconds * 1000L;
        table.Touch(ti);
        if (templateBound && _sync is { } sync) EmitSync(sync, in templateKey, ConnState.Template, dest, svc.PersistenceSeconds * 1000L);
        return DropReason.None;
    }

    /// <summary>The destination of a live persistence template with this key in a peer worker's table, or -1.</summary>
    private int PeekPeerTemplate(in FlowKey templateKey, long nowMs)
    {
        ConnectionTable[]? peers = _peers;
        if (peers is null) return -1;
        foreach (ConnectionTable t in peers)
            if (t.TryPeekTemplate(in templateKey, nowMs, out int id)) return id;
        return -1;
    }
}
