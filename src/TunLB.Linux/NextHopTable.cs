using System.Collections.Frozen;
using System.Net;
using System.Runtime.CompilerServices;
using TunLB.Core.Flows;
using TunLB.Linux.Netlink;

namespace TunLB.Linux;

/// <summary>
/// Link-layer next hops for the real servers: for each tunnel destination, the Ethernet device the kernel's route
/// leaves through and the MAC address of the next hop (the gateway, or the server itself when on-link), read from
/// the kernel's routing and neighbour tables once a second. <see cref="PacketSender"/> uses it to hand tunnel
/// packets straight to the device, skipping the kernel's IP output path (route lookup, netfilter OUTPUT and
/// POSTROUTING, neighbour lookup) that a raw socket pays for every packet.
/// </summary>
/// <remarks>
/// <para>The kernel stays the authority: a destination whose route is not unicast over an Ethernet device, or whose
/// neighbour entry is not usable (INCOMPLETE, FAILED, none yet), is absent, and its packets take the raw socket; the
/// kernel then resolves it and the next refresh picks it up. Every <see cref="KeepaliveMs"/> one packet per
/// destination also takes the raw socket, so the kernel keeps confirming the neighbour (STALE, DELAY, PROBE) as if
/// it carried the traffic itself, and a changed or dead MAC shows up in its table and then here.</para>
/// <para>Refreshing asks the kernel over one rtnetlink socket, opened on the first refresh in the calling thread's
/// namespace and kept (reopened after an error): RTM_GETROUTE per destination (as `ip route get`), then the neighbour
/// and link dumps. No process is started and no thread-pool thread is used. The hot path reads an immutable
/// snapshot: one dictionary lookup per packet, no lock.</para>
/// </remarks>
public sealed class NextHopTable : IDisposable
{
    /// <summary>How often one packet per destination goes through the kernel's IP stack instead.</summary>
    public const long KeepaliveMs = 3000;

    private readonly Func<IReadOnlyCollection<(IpAddress Destination, IpAddress Source)>> _destinations;
    private readonly Action<string>? _log;
    private readonly int _intervalMs;
    private readonly Thread? _thread;
    private readonly ManualResetEventSlim _stop = new();
    private volatile Snapshot? _current;
    private volatile bool _missed;
    private string _lastProblem = "";
    private readonly Lock _refreshLock = new(); // the netlink socket: the refresh thread, or a caller of Refresh
    private RouteNetlinkSocket? _netlink;
    private bool _disposed;

    /// <param name="destinations">The tunnel destinations with the outer source address used toward each (default = none).</param>
    /// <param name="intervalMs">Refresh period; 0 = no background thread (call <see cref="Refresh"/>).</param>
    public NextHopTable(Func<IReadOnlyCollection<(IpAddress Destination, IpAddress Source)>> destinations, int intervalMs = 1000, Action<string>? log = null)
    {
        _destinations = destinations;
        _log = log;
        _intervalMs = intervalMs;
        if (intervalMs > 0)
        {
            _thread = new Thread(Loop) { IsBackground = true, Name = "tunlb-nexthops" };
            _thread.Start();
        }
    }

    /// <summary>The snapshot the senders read (null until the first refresh or when nothing resolves).</summary>
    public Snapshot? Current => _current;

    /// <summary>
    /// Called by a sender whose packet found no next hop: the kernel is resolving it now (the packet went through the raw
    /// socket), so refresh soon (within <see cref="MissRefreshMs"/>) instead of at the next period.
    /// </summary>
    public void NoteMiss() => _missed = true;

    /// <summary>Earliest refresh after a miss.</summary>
    public const int MissRefreshMs = 50;

    /// <summary>Destinations currently sent directly to a MAC address.</summary>
    public int Count => _current?.Count ?? 0;

    /// <summary>Reads the kernel's tables now and publishes a new snapshot. Returns how many destinations resolved.</summary>
    public int Refresh() => Refresh(out _);

    private int Refresh(out int wantedCount)
    {
        var wanted = _destinations();
        wantedCount = wanted.Count;
        if (wanted.Count == 0) { _current = null; return 0; }
        var routes = new List<KernelRoute>(wanted.Count);
        var neighbours = new List<KernelNeighbour>();
        var links = new List<KernelLink>();
        lock (_refreshLock)
        {
            if (_disposed) return 0;
            var netlink = _netlink ??= RouteNetlinkSocket.Open();
            try
            {
                netlink.GetRoutes(wanted.Distinct().ToArray(), routes);
                netlink.DumpNeighbours(neighbours);
                netlink.DumpLinks(links);
            }
            catch
            {
                // Whatever went wrong, the next refresh starts on a new socket with no answers left over.
                netlink.Dispose();
                _netlink = null;
                throw;
            }
        }
        var hops = NextHopResolver.Resolve(routes, neighbours, links);
        _current = hops.Count == 0 ? null : new Snapshot(hops, _current);
        return hops.Count;
    }

    /// <summary>
    /// <see cref="NextHopResolver.Resolve"/> on `ip -j route get` lines (one JSON array per line), `ip -j neigh show`
    /// and `ip -j link show`: the resolved next hop of every destination whose route is unicast over an Ethernet device
    /// with a usable neighbour entry (the tests compare it with what rtnetlink gives).
    /// </summary>
    public static Dictionary<IpAddress, LinkHop> Resolve(string routeJsonLines, string neighJson, string linkJson)
    {
        var links = IpJsonTables.Links(linkJson);
        return NextHopResolver.Resolve(IpJsonTables.Routes(routeJsonLines, links), IpJsonTables.Neighbours(neighJson, links), links);
    }

    private void Loop()
    {
        // Early refreshes after misses stop after a few that resolve nothing new (a destination routed over a device
        // without Ethernet never resolves), until the destinations or the resolved set change.
        int fruitless = 0, lastResolved = -1, lastWanted = -1;
        bool early = false;
        while (!_stop.IsSet)
        {
            try
            {
                _missed = false;
                int resolved = Refresh(out int wanted);
                if (resolved != lastResolved || wanted != lastWanted) fruitless = 0;
                else if (early) fruitless++;
                (lastResolved, lastWanted) = (resolved, wanted);
                _lastProblem = "";
            }
            catch (Exception e)
            {
                // Keep the previous snapshot: the kernel's tables rarely change, and every miss falls back to the raw socket.
                if (e.Message != _lastProblem) _log?.Invoke($"tunlb director: next hops: {e.Message} (tunnel packets without a known next hop use the raw socket)");
                _lastProblem = e.Message;
            }
            // Sleep the period, or less after a miss (a new destination, or one whose neighbour the kernel just resolved).
            early = false;
            for (int waited = 0; waited < _intervalMs && !_stop.IsSet; waited += MissRefreshMs)
            {
                if (_stop.Wait(MissRefreshMs)) break;
                if (fruitless < 3 && (_missed || _current is { Missed: true })) { early = true; break; }
            }
        }
    }

    public void Dispose()
    {
        _stop.Set();
        _thread?.Join(2000);
        lock (_refreshLock)
        {
            _disposed = true;
            _netlink?.Dispose();
            _netlink = null;
        }
        _current = null;
    }

    /// <summary>
    /// An immutable set of resolved next hops, with the native send addresses ready for sendmmsg(2) and the Ethernet
    /// headers ready for a transmit ring (<see cref="ILinkTransmitter"/>).
    /// </summary>
    public sealed unsafe class Snapshot
    {
        /// <summary>Bytes per prebuilt Ethernet header (destination MAC, source MAC, EtherType).</summary>
        internal const int HeaderLength = 14;
        private readonly FrozenDictionary<IpAddress, int> _index;
        private readonly Interop.sockaddr_ll[] _addresses; // pinned: the senders point msg_name at them
        private readonly byte[] _headers;                  // HeaderLength per hop; all zero for a hop without a known source MAC
        private readonly bool[] _hasHeader;
        private readonly long[] _lastRawMs;
        private readonly LinkHop[] _hops;

        internal Snapshot(Dictionary<IpAddress, LinkHop> hops, Snapshot? previous)
        {
            var keys = hops.Keys.ToArray();
            _hops = keys.Select(k => hops[k]).ToArray();
            _index = keys.Select((k, i) => (k, i)).ToFrozenDictionary(x => x.k, x => x.i);
            _addresses = GC.AllocateArray<Interop.sockaddr_ll>(keys.Length, pinned: true);
            _lastRawMs = new long[keys.Length];
            _headers = new byte[keys.Length * HeaderLength];
            _hasHeader = new bool[keys.Length];
            for (int i = 0; i < keys.Length; i++)
            {
                ref var sa = ref _addresses[i];
                var h = _hops[i];
                if (h.SourceMac is { Length: 6 } own)
                {
                    var hdr = _headers.AsSpan(i * HeaderLength, HeaderLength);
                    h.Mac.AsSpan(0, 6).CopyTo(hdr);
                    own.CopyTo(hdr[6..]);
                    hdr[12] = (byte)((h.IsV4 ? Interop.ETH_P_IP : Interop.ETH_P_IPV6) >> 8);
                    hdr[13] = (byte)(h.IsV4 ? Interop.ETH_P_IP : Interop.ETH_P_IPV6);
                    _hasHeader[i] = true;
                }
                sa.sll_family = Interop.AF_PACKET;
                sa.sll_protocol = (ushort)IPAddress.HostToNetworkOrder((short)(h.IsV4 ? Interop.ETH_P_IP : Interop.ETH_P_IPV6));
                sa.sll_ifindex = h.IfIndex;
                sa.sll_halen = 6;
                for (int b = 0; b < 6; b++) sa.sll_addr[b] = h.Mac[b];
                // Carry the keepalive clock over, so a refresh does not send a burst of packets through the raw socket.
                if (previous is not null && previous._index.TryGetValue(keys[i], out int old)) _lastRawMs[i] = previous._lastRawMs[old];
            }
        }

        public int Count => _hops.Length;

        /// <summary>Set when a packet's destination was not in this snapshot.</summary>
        internal bool Missed;

        /// <summary>The resolved next hops (for diagnostics and the API).</summary>
        public IReadOnlyList<LinkHop> Hops => _hops;

        /// <summary>Each destination with its hop (tests, diagnostics).</summary>
        internal IReadOnlyDictionary<IpAddress, LinkHop> ByDestination() => _index.ToDictionary(e => e.Key, e => _hops[e.Value]);

        /// <summary>
        /// The send address for a tunnel packet to <paramref name="destination"/>, or null when it must take the raw
        /// socket: not resolved, or due for its keepalive (which this call then records as sent).
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal Interop.sockaddr_ll* Find(in IpAddress destination, long nowMs)
        {
            int i = FindIndex(destination, nowMs);
            return i < 0 ? null : Address(i);
        }

        /// <summary>As <see cref="Find"/>: the hop's index for <see cref="Address"/>, <see cref="EthernetHeader"/> and
        /// <see cref="Mtu"/>, or -1 when the packet must take the raw socket.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal int FindIndex(in IpAddress destination, long nowMs)
        {
            if (!_index.TryGetValue(destination, out int i)) { Missed = true; return -1; }
            ref long last = ref _lastRawMs[i];
            if (nowMs - last >= KeepaliveMs) { last = nowMs; return -1; }
            return i;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal Interop.sockaddr_ll* Address(int i) => (Interop.sockaddr_ll*)Unsafe.AsPointer(ref _addresses[i]);

        /// <summary>Hop <paramref name="i"/>'s Ethernet header, empty when the device's own MAC is unknown (no ring then).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal ReadOnlySpan<byte> EthernetHeader(int i) => _hasHeader[i] ? _headers.AsSpan(i * HeaderLength, HeaderLength) : default;

        /// <summary>The MTU of hop <paramref name="i"/>'s device (0 when unknown).</summary>
        internal int Mtu(int i) => _hops[i].Mtu;

        /// <summary><see cref="Find"/> as a yes/no (tests).</summary>
        internal bool GoesDirect(in IpAddress destination, long nowMs) => Find(destination, nowMs) != null;
    }
}

/// <summary>A resolved link-layer next hop toward one tunnel destination; <paramref name="SourceMac"/> and
/// <paramref name="Mtu"/> are the device's own (IFLA_ADDRESS, IFLA_MTU), for building whole Ethernet frames.</summary>
public sealed record LinkHop(int IfIndex, bool IsV4, byte[] Mac, string Device, IpAddress Via, byte[]? SourceMac = null, int Mtu = 0)
{
    public override string ToString() => $"{Device} via {Via} ({string.Join(':', Mac.Select(b => b.ToString("x2")))})";
}
