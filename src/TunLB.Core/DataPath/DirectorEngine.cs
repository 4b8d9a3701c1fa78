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
/// outer header (IP-in-IP or GUE, IPv4 or IPv6) addressed to the chosen real server. Also answers pings to
/// VIPs, forwards ICMP errors to the real server of the flow they quote, enforces per-server path MTUs and sends
/// every fragment of a datagram to one real server.
/// </summary>
/// <remarks>
/// <para>Threading: <see cref="Process"/>, <see cref="Expire"/> and everything touching
/// <see cref="Connections"/> belong to one worker thread. <see cref="SetServices"/> and
/// <see cref="SetTimeouts"/> may be called from any thread; they publish immutable objects that the
/// worker picks up at its next packet. With several workers (one engine each, see <see cref="SetPeers"/>)
/// the engines share services and destinations: per-packet counters go to this worker's slot of
/// <see cref="WorkerStatsSet"/>, and connection counters change with Interlocked. A peer's table is only
/// ever read with <see cref="ConnectionTable.TryPeek"/>.</para>
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
    private byte _innerTtlIncrement;
    private readonly bool _sloppyTcp;
    private readonly bool _expireQuiescentTemplate;
    private readonly int _worker;
    private readonly bool _atomic;
    // The other workers' tables (null with one worker): consulted read-only when a packet of a flow another
    // worker holds lands here (fragments and ICMP errors are queued by the kernel on an address-only hash).
    private volatile ConnectionTable[]? _peers;

    private readonly bool _answerPing;
    private readonly TokenBucket _icmpBucket;
    private readonly FragmentTable _fragments;
    // Whole outer packet before fragmentation (the rare path); pinned so it costs the GC nothing to keep.
    private readonly byte[] _scratch = GC.AllocateUninitializedArray<byte>(OutputPacket.MaxPacket + 128, pinned: true);

    /// <summary>A connection moves to the LRU tail at most this often while its state stays the same.</summary>
    internal const long LruTouchIntervalMs = 1000;

    private volatile DirectorEngineSnapshot _snapshot = DirectorEngineSnapshot.Empty;
    private volatile ConnTimeouts _timeouts;
    private ushort _ipId;
    private uint _fragId6;
    private long _forwardedPackets;
    private long _outerFragments;
    private long _icmpForwarded;
    private long _icmpGenerated;

    public DirectorEngine(DirectorEngineOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(options.Timeouts);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(options.InnerTtlIncrement, (byte)1);
        ArgumentOutOfRangeException.ThrowIfZero(options.OuterTtl);
        ArgumentOutOfRangeException.ThrowIfNegative(options.WorkerIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(options.WorkerIndex, WorkerStatsSet.MaxWorkers);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.WorkerCount, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(options.WorkerCount, WorkerStatsSet.MaxWorkers);
        _worker = options.WorkerIndex;
        _atomic = options.WorkerCount > 1;
        _seed = options.HashSeed ?? (ulong)Random.Shared.NextInt64() ^ ((ulong)Random.Shared.NextInt64() << 1);
        _table = new ConnectionTable(options.ConnectionCapacity, options.FullTablePolicy, FlowHash.Mix(_seed));
        _timeouts = options.Timeouts;
        _outerTtl = options.OuterTtl;
        _innerTtlIncrement = options.InnerTtlIncrement;
        _sloppyTcp = options.SloppyTcp;
        _expireQuiescentTemplate = options.ExpireQuiescentTemplate;
        _ipId = (ushort)(_seed >> 48);
        _fragId6 = (uint)(_seed >> 16);
        _answerPing = options.AnswerPing;
        _icmpBucket = new TokenBucket(options.IcmpRatePerSecond, options.IcmpBurst);
        _fragments = new FragmentTable(options.FragmentTableCapacity, FlowHash.Mix(_seed ^ 0x5bd1e995), options.FragmentTimeoutMs);
        _synFlood = new SynFloodGuard(options.SynFlood);
        _table.HalfOpenEvictionThreshold = HalfOpenThreshold(_table.Capacity, options.SynFlood.HalfOpenEvictFill);
    }

    private static int HalfOpenThreshold(int capacity, double fill)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(fill);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(fill, 1.0);
        if (fill == 0) return int.MaxValue;
        return (int)Math.Clamp(Math.Ceiling(capacity * fill), 1, capacity);
    }

    /// <summary>Dropped packets per reason, indexed by <c>(int)DropReason</c>. Written by the worker only.</summary>
    public long[] Drops { get; } = new long[DropReasons.Count];

    /// <summary>
    /// 1 when the inner TTL is raised back by the kernel's forwarding decrement (io = "tun"), else 0. Set by the runtime
    /// once it knows the capture backend, before the workers start.
    /// </summary>
    public byte InnerTtlIncrement
    {
        get => _innerTtlIncrement;
        set { ArgumentOutOfRangeException.ThrowIfGreaterThan(value, (byte)1); _innerTtlIncrement = value; }
    }

    /// <summary>Packets encapsulated and handed back for sending.</summary>
    public long ForwardedPackets => _forwardedPackets;

    /// <summary>Outer fragments produced (for inner packets without DF above a real server's MTU).</summary>
    public long OuterFragments => _outerFragments;

    /// <summary>ICMP / ICMPv6 errors for a live flow forwarded to that flow's real server.</summary>
    public long IcmpForwarded => _icmpForwarded;

    /// <summary>ICMP / ICMPv6 messages generated by the director (echo replies, frag-needed, Packet Too Big).</summary>
    public long IcmpGenerated => _icmpGenerated;

    /// <summary>The fragment table (destinations of fragmented datagrams).</summary>
    public FragmentTable Fragments => _fragments;

    /// <summary>The connection table (connections and persistence templates).</summary>
    public ConnectionTable Connections => _table;

    /// <summary>This engine's worker index: its slot in the per-worker counters.</summary>
    public int WorkerIndex => _worker;

    /// <summary>Flows adopted from another worker's table (found there by <see cref="ConnectionTable.TryPeek"/>).</summary>
    public long PeerAdopted => _peerAdopted;
    private long _peerAdopted;

    /// <summary>
    /// Tells this engine about all engines of the director (itself included, in worker order), so a packet of a
    /// flow another worker holds follows that flow's destination: an ICMP error quoting it, a first fragment, a UDP
    /// datagram or a mid-flow TCP segment that finds no local entry looks the flow up read-only in the peers'
    /// tables before anything is scheduled. A TCP SYN never does (it starts a new connection).
    /// </summary>
    public void SetPeers(IReadOnlyList<DirectorEngine> engines)
    {
        ArgumentNullException.ThrowIfNull(engines);
        var peers = new List<ConnectionTable>();
        foreach (var e in engines)
            if (!ReferenceEquals(e, this)) peers.Add(e._table);
        _peers = peers.Count == 0 ? null : peers.ToArray();
    }

    /// <summary>The destination id a peer worker's table holds for <paramref name="flow"/>, or -1.</summary>
    private int PeekPeers(in FlowKey flow, long nowMs)
    {
        ConnectionTable[]? peers = _peers;
        if (peers is null) return -1;
        foreach (ConnectionTable t in peers)
            if (t.TryPeek(in flow, nowMs, out int id)) return id;
        return -1;
    }

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
        var observer = new CounterObserver(_snapshot, _atomic);
        _synFlood.Tick(nowMs);
        return _table.Expire(nowMs, budget, ref observer);
    }

    /// <summary>
    /// Handles one IPv4 or IPv6 packet arriving for a VIP. Returns <see cref="DropReason.None"/> when the packet was
    /// consumed as intended, or the (counted) reason it was dropped. Independently of the verdict,
    /// <paramref name="count"/> packets were written to <paramref name="output"/> and described in
    /// <paramref name="packets"/>; send each as a complete IP packet of its family to its
    /// <see cref="OutputPacket.NextHop"/>:
    /// <list type="bullet">
    /// <item>None, 1 Tunnel packet: the encapsulated packet (IP-in-IP or GUE).</item>
    /// <item>None, several Tunnel packets: the outer packet's fragments (the inner packet had no DF and exceeded the
    /// real server's <see cref="Destination.Mtu"/>).</item>
    /// <item>None, 1 Reply packet: an echo reply from the VIP to the client.</item>
    /// <item><see cref="DropReason.FragNeeded"/>, 0 or 1 Reply packet: the packet did not fit the path MTU; the reply
    /// is the ICMP frag-needed / ICMPv6 Packet Too Big for the client (none when rate-limited).</item>
    /// <item>Any other reason: nothing to send.</item>
    /// </list>
    /// <paramref name="packets"/> needs room for the fragments of one packet: (65535 / (MTU - 48)) + 1, e.g. 128
    /// for MTUs down to 576; <paramref name="output"/> needs 65535 + that many times 48 bytes. Smaller buffers make
    /// such packets drop as <see cref="DropReason.TooBig"/>.
    /// </summary>
    public DropReason Process(ReadOnlySpan<byte> packet, Span<byte> output, Span<OutputPacket> packets, long nowMs, out int count)
    {
        count = 0;
        _received++;
        DropReason r = PacketParser.Parse(packet, out PacketInfo info);
        DirectorEngineSnapshot snap = _snapshot;
        if (r != DropReason.None)
        {
            if (r == DropReason.UnsupportedProtocol && info.Flow.Protocol == (info.IsV6 ? IpProtocol.Icmpv6 : IpProtocol.Icmp))
                return ProcessIcmp(packet, in info, snap, output, packets, nowMs, out count);
            if (r == DropReason.Fragment)
                return ProcessFragment(packet, in info, snap, output, packets, nowMs, out count);
            return Drop(r);
        }
        // Health-check traffic from the director itself, pinned to one real server (DirectorEngine.Pinned.cs).
        if (_pinned is { } pins && pins.Lookup(info.Flow.SourcePort, info.Flow.Protocol) is var pinnedId && pinnedId >= 0 &&
            TryForwardPinned(packet, in info, snap, pinnedId, output, packets, nowMs, out count, out r))
            return r;

        VirtualService? svc = snap.FindService(info.Flow.Destination, info.Flow.DestinationPort, info.Flow.Protocol);
        if (svc is null) return Drop(DropReason.NoService);

        Destination? dest = null;
        if (info.IsFirstFragment)
        {
            // Fragments that overtook their first fragment already chose a server: the first one follows them.
            r = _fragments.Lookup(info.Flow.Source, info.Flow.Destination, info.Flow.Protocol, info.FragmentId, 0,
                info.PayloadLength, nowMs, out int fragDest);
            if (r != DropReason.None) return Drop(r);
            if (fragDest >= 0 && snap.Destination(fragDest) is { Alive: true } known)
                return Forward(packet.Slice(0, info.TotalLength), in info, known, svc, true, output, packets, nowMs, out count);
        }

        var observer = new CounterObserver(snap, _atomic);
        ConnectionTable table = _table;
        bool isTcp = info.Flow.Protocol == IpProtocol.Tcp;
        byte flags = info.TcpFlags;

        ulong flowHash = table.Hash(info.Flow);   // once per packet: Find, then Add for a new connection
        int ci = table.Find(info.Flow, flowHash);
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

        bool scheduled = false; // a new entry of this director's choice (sent to peer directors)
        if (ci < 0)
        {
            // A TCP flow is scheduled only from a SYN (and never from an RST), as IPVS without sloppy_tcp.
            // Sloppy mode (on with announce = true), or a consistent-hash scheduler (sh, dh, mh: the choice
            // depends only on the packet and the destination set), also schedules mid-flow segments, which lets
            // a second director pick up flows that another director started: such a flow is adopted (Adopt).
            // Another worker may hold the flow: the kernel queues fragments by addresses only, so a first fragment
            // (and, when both kinds are mixed, a datagram) can land on a worker that does not hold its flow.
            // Follow that worker's choice instead of scheduling afresh. Never for a SYN: that is a new connection.
            if (_peers is not null && !(isTcp && (flags & TcpFlags.Syn) != 0) &&
                PeekPeers(in info.Flow, nowMs) is var peerDest && peerDest >= 0 &&
                snap.Destination(peerDest) is { Usable: true } adopted)
            {
                ci = table.Add(info.Flow, nowMs, ref observer);
                if (ci < 0) return Drop(DropReason.ConnTableFull);
                BindConnection(ci, svc, adopted, counted: false);
                dest = adopted;
                _peerAdopted++;
            }
            else if (isTcp && (flags & (TcpFlags.Syn | TcpFlags.Rst)) == TcpFlags.Syn && StatelessEngaged(svc, nowMs))
                return ForwardStateless(packet, in info, svc, output, packets, nowMs, out count); // SYN flood: no entry
            else if (isTcp && ((flags & TcpFlags.Rst) != 0 ||
                          ((flags & TcpFlags.Syn) == 0 && !_sloppyTcp && !svc.Scheduler.IsConsistentHash && !StatelessAdoptable(svc, nowMs))))
                return Drop(DropReason.TcpNoConnection);
            else
            {
                // Without SYN during (or just after) a stateless defence: follow the flow hash its SYN went by.
                bool stateless = isTcp && (flags & TcpFlags.Syn) == 0 && StatelessAdoptable(svc, nowMs);
                r = svc.PersistenceSeconds > 0
                    ? NewPersistentConnection(svc, snap, in info.Flow, nowMs, ref observer, out ci, out dest)
                    : NewConnection(svc, in info.Flow, flowHash, nowMs, ref observer, out ci, out dest, stateless);
                if (r != DropReason.None) return Drop(r);
                if (isTcp && (flags & TcpFlags.Syn) == 0) Adopt(ci, svc, dest!);
                scheduled = true;
            }
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
                if (isActive) { Inc(ref dest!.ActiveConnections); Dec(ref dest.InactiveConnections); }
                else { Dec(ref dest!.ActiveConnections); Inc(ref dest.InactiveConnections); }
            }
            conn.State = next;
        }
        // Keep the LRU order to within a second: moving an entry to the tail writes two other, random entries,
        // the largest per-packet cost in a big table, so a busy flow moves at most once a second (or on a state
        // change, which may shorten its timeout).
        long timeout = _timeouts[next];
        if (next == ConnState.SynRecv) timeout = SynRecvTimeout(timeout);
        long expires = nowMs + timeout;
        // SYN_RECV entries live in the table's half-open list, which is evicted first under pressure (SYN floods).
        if (next != old && (next == ConnState.SynRecv || old == ConnState.SynRecv)) table.SetHalfOpen(ci, next == ConnState.SynRecv);
        else if (expires - conn.ExpiresAtMs >= LruTouchIntervalMs || next != old) table.Touch(ci);
        conn.ExpiresAtMs = expires;
        if ((next != old || scheduled) && _sync is { } sync) EmitSync(sync, in info.Flow, next, dest!, _timeouts[next]);

        if (info.IsFirstFragment)
            _fragments.Add(info.Flow.Source, info.Flow.Destination, info.Flow.Protocol, info.FragmentId, 0, info.PayloadLength, dest!.Id, nowMs);

        return Forward(packet.Slice(0, info.TotalLength), in info, dest!, svc, true, output, packets, nowMs, out count);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private DropReason Drop(DropReason reason)
    {
        Drops[(int)reason]++;
        return reason;
    }

}
