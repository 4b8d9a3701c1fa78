using System.Collections.Frozen;
using System.Runtime.CompilerServices;
using TunLB.Core.Connections;
using TunLB.Core.Flows;
using TunLB.Core.Model;
using TunLB.Core.Packets;

namespace TunLB.Core.DataPath;

/// <summary>
/// The per-packet director logic of LVS-TUN: classify a client packet to a virtual service, find or
/// create its connection entry, track TCP state and destination counters, and wrap the packet in an
/// outer IPv4 header addressed to the chosen real server.
/// </summary>
/// <remarks>
/// <para>Threading: <see cref="Process"/>, <see cref="Expire"/> and everything touching
/// <see cref="Connections"/> belong to one worker thread. <see cref="SetServices"/> and
/// <see cref="SetTimeouts"/> may be called from any thread; they publish immutable objects that the
/// worker picks up at its next packet.</para>
/// <para>Per packet nothing is allocated, locked or thrown; the only interface calls are the service
/// scheduler's, and only for packets that start a new connection.</para>
/// <para>Counters follow ipvsadm: a connection counts as active while ESTABLISHED and inactive otherwise
/// (from its creation until its removal); a persistence template counts in the destination's
/// <see cref="Destination.PersistentConnections"/>.</para>
/// </remarks>
public sealed partial class DirectorEngine
{
    private readonly ConnectionTable _table;
    private readonly ulong _seed;
    private readonly byte _outerTtl;
    private readonly byte _innerTtlIncrement;
    private readonly bool _sloppyTcp;
    private readonly bool _expireQuiescentTemplate;

    private volatile DirectorEngineSnapshot _snapshot = DirectorEngineSnapshot.Empty;
    private volatile ConnTimeouts _timeouts;
    private ushort _ipId;
    private long _forwardedPackets;

    public DirectorEngine(DirectorEngineOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(options.Timeouts);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(options.InnerTtlIncrement, (byte)1);
        ArgumentOutOfRangeException.ThrowIfZero(options.OuterTtl);
        _seed = options.HashSeed ?? (ulong)Random.Shared.NextInt64() ^ ((ulong)Random.Shared.NextInt64() << 1);
        _table = new ConnectionTable(options.ConnectionCapacity, options.FullTablePolicy, FlowHash.Mix(_seed));
        _timeouts = options.Timeouts;
        _outerTtl = options.OuterTtl;
        _innerTtlIncrement = options.InnerTtlIncrement;
        _sloppyTcp = options.SloppyTcp;
        _expireQuiescentTemplate = options.ExpireQuiescentTemplate;
        _ipId = (ushort)(_seed >> 48);
    }

    /// <summary>Dropped packets per reason, indexed by <c>(int)DropReason</c>. Written by the worker only.</summary>
    public long[] Drops { get; } = new long[DropReasons.Count];

    /// <summary>Packets encapsulated and handed back for sending.</summary>
    public long ForwardedPackets => _forwardedPackets;

    /// <summary>The connection table (connections and persistence templates).</summary>
    public ConnectionTable Connections => _table;

    /// <summary>The currently published services.</summary>
    public FrozenDictionary<ServiceKey, VirtualService> Services => _snapshot.Services;

    public ConnTimeouts Timeouts => _timeouts;

    /// <summary>The destination with this id in the current configuration, or null.</summary>
    public Destination? FindDestination(int id) => _snapshot.Destination(id);

    /// <summary>
    /// Publishes a new service set, atomically for the data path. Destinations are registered by their
    /// <see cref="Destination.Id"/> (ids must be unique and never reused); a connection whose destination
    /// is absent from the newest set, or no longer <see cref="Destination.Alive"/>, stops being forwarded.
    /// Call again after changing a service's destination array so new destinations are registered.
    /// </summary>
    public void SetServices(IReadOnlyList<VirtualService> services)
    {
        ArgumentNullException.ThrowIfNull(services);
        _snapshot = new DirectorEngineSnapshot(services, _seed);
    }

    /// <summary>Replaces the timeouts; entries pick the new values up at their next packet.</summary>
    public void SetTimeouts(ConnTimeouts timeouts)
    {
        ArgumentNullException.ThrowIfNull(timeouts);
        _timeouts = timeouts;
    }

    /// <summary>Removes expired entries, examining at most <paramref name="budget"/> table slots. Returns the number removed.</summary>
    public int Expire(long nowMs, int budget)
    {
        var observer = new CounterObserver(_snapshot);
        return _table.Expire(nowMs, budget, ref observer);
    }

    /// <summary>
    /// Handles one IPv4 packet from a client. On success returns <see cref="DropReason.None"/>, with the
    /// IPIP packet in <paramref name="output"/>[..<paramref name="outputLength"/>] and the real server's
    /// address in <paramref name="nextHop"/>. Otherwise returns (and counts) the reason to drop it.
    /// </summary>
    public DropReason Process(ReadOnlySpan<byte> packet, Span<byte> output, long nowMs, out int outputLength, out IpAddress nextHop)
    {
        outputLength = 0;
        nextHop = default;

        DropReason r = PacketParser.ParseIPv4(packet, out PacketInfo info);
        if (r != DropReason.None) return Drop(r);

        DirectorEngineSnapshot snap = _snapshot;
        // Health-check traffic from the director itself, pinned to one real server (DirectorEngine.Pinned.cs).
        if (_pinned is { } pins && pins.Lookup(info.Flow.SourcePort, info.Flow.Protocol) is var pinned && pinned >= 0 &&
            TryForwardPinned(packet, in info, snap, pinned, output, out outputLength, out nextHop, out r))
            return r;

        VirtualService? svc = snap.FindService(info.Flow.Destination, info.Flow.DestinationPort, info.Flow.Protocol);
        if (svc is null) return Drop(DropReason.NoService);

        var observer = new CounterObserver(snap);
        ConnectionTable table = _table;
        bool isTcp = info.Flow.Protocol == IpProtocol.Tcp;
        byte flags = info.TcpFlags;
        Destination? dest = null;

        int ci = table.Find(info.Flow);
        if (ci >= 0)
        {
            if (table.IsExpired(ci, nowMs))
            {
                // Timed out but not swept yet: it no longer exists.
                table.Remove(ci, ref observer);
                ci = -1;
            }
            else
            {
                dest = snap.Destination(table[ci].DestinationId);
                if (isTcp && (flags & (TcpFlags.Syn | TcpFlags.Ack | TcpFlags.Rst)) == TcpFlags.Syn && table[ci].State is
                        ConnState.FinWait or ConnState.TimeWait or ConnState.Close or ConnState.CloseWait or ConnState.LastAck)
                {
                    // Port reuse (IPVS conn_reuse_mode bit 2): a new SYN on the 5-tuple of a connection the client
                    // already closed is a new connection, scheduled afresh, so weight 0 (drain, inhibit) holds for it.
                    table.Remove(ci, ref observer);
                    ci = -1;
                    dest = null;
                }
                else if (dest is null || !dest.Usable)
                {
                    // The real server was deleted or failed its health check (IPVS expire_nodest_conn). A new SYN from the same
                    // client port starts over with a fresh scheduling decision; anything else is dropped.
                    if (!isTcp || (flags & (TcpFlags.Syn | TcpFlags.Rst)) != TcpFlags.Syn)
                        return Drop(DropReason.DestinationGone);
                    table.Remove(ci, ref observer);
                    ci = -1;
                    dest = null;
                }
            }
        }

        if (ci < 0)
        {
            // A TCP flow is scheduled only from a SYN (and never from an RST), as IPVS without sloppy_tcp.
            // Sloppy mode, or a consistent-hash scheduler (sh, dh, mh: the choice depends only on the
            // packet and the destination set), also schedules mid-flow segments, which lets a second
            // director pick up flows that another director started.
            if (isTcp && ((flags & TcpFlags.Rst) != 0 ||
                          ((flags & TcpFlags.Syn) == 0 && !_sloppyTcp && !svc.Scheduler.IsConsistentHash)))
                return Drop(DropReason.TcpNoConnection);

            r = svc.PersistenceSeconds > 0
                ? NewPersistentConnection(svc, snap, in info.Flow, nowMs, ref observer, out ci, out dest)
                : NewConnection(svc, in info.Flow, nowMs, ref observer, out ci, out dest);
            if (r != DropReason.None) return Drop(r);
        }

        // State, counters and expiry.
        ref ConnEntry conn = ref table[ci];
        ConnState old = conn.State;
        ConnState next = isTcp ? TcpStateMachine.NextState(old, flags) : ConnState.Udp;
        if (next != old)
        {
            bool wasActive = ConnStates.IsActive(old), isActive = ConnStates.IsActive(next);
            if (wasActive != isActive)
            {
                if (isActive) { dest!.ActiveConnections++; dest.InactiveConnections--; }
                else { dest!.ActiveConnections--; dest.InactiveConnections++; }
            }
            conn.State = next;
        }
        conn.ExpiresAtMs = nowMs + _timeouts[next];
        table.Touch(ci);

        int n = Ipip.EncapsulateV4(packet.Slice(0, info.TotalLength), output,
            dest!.OuterSource.V4, dest.Address.V4, _outerTtl, ++_ipId, _innerTtlIncrement);
        if (n < 0) return Drop(DropReason.TooBig);

        svc.InPackets++;
        svc.InBytes += info.TotalLength;
        dest.InPackets++;
        dest.InBytes += info.TotalLength;
        _forwardedPackets++;
        outputLength = n;
        nextHop = dest.Address;
        return DropReason.None;
    }

    private DropReason NewConnection(VirtualService svc, in FlowKey flow, long nowMs, ref CounterObserver observer,
        out int index, out Destination? dest)
    {
        index = -1;
        dest = svc.Scheduler.Schedule(flow, svc.Destinations);
        if (dest is null) return DropReason.NoDestination;
        index = _table.Add(flow, nowMs, ref observer);
        if (index < 0) return DropReason.ConnTableFull;
        BindConnection(index, svc, dest);
        return DropReason.None;
    }

    /// <summary>Fills a freshly added connection entry and counts it (state None: inactive).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void BindConnection(int index, VirtualService svc, Destination dest)
    {
        ref ConnEntry e = ref _table[index];
        e.DestinationId = dest.Id;
        e.State = ConnState.None;
        e.Flags = ConnFlags.InputOnly;
        dest.InactiveConnections++;
        dest.Connections++;
        svc.Connections++;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private DropReason Drop(DropReason reason)
    {
        Drops[(int)reason]++;
        return reason;
    }

    /// <summary>Undoes a removed entry's contribution to its destination's counters.</summary>
    private readonly struct CounterObserver : IConnectionObserver
    {
        private readonly DirectorEngineSnapshot _snapshot;
        public CounterObserver(DirectorEngineSnapshot snapshot) => _snapshot = snapshot;

        public void OnRemoved(ref ConnEntry entry)
        {
            Destination? d = _snapshot.Destination(entry.DestinationId);
            if (d is null) return; // deleted from the configuration: nobody reads its counters any more
            if (entry.State == ConnState.Template) d.PersistentConnections--;
            else if (ConnStates.IsActive(entry.State)) d.ActiveConnections--;
            else d.InactiveConnections--;
        }
    }
}
