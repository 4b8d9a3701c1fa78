using System.Text;
using TunLB.Core.Capture;
using TunLB.Core.Model;

namespace TunLB.Linux;

/// <summary>
/// The `io = "afpacket"` capture backend's setup: a TPACKET_V2 ring (<see cref="AfPacketRing"/>) bound to all interfaces
/// whose BPF filter keeps IPv4/IPv6 packets to a service (VIP + protocol + port, see <see cref="CaptureBpf"/>) arriving on the capture interfaces plus the director's own packets
/// to a VIP leaving into the TUN device (health checks through the tunnel), and an nftables table, unique to this
/// process, that drops service traffic (<see cref="NftServiceSets"/>) at prerouting (raw priority) so the kernel does not also forward it into the TUN
/// device or delivers it locally (a VIP the host holds). Other ports of a VIP stay with the kernel. AF_PACKET taps run before netfilter, so the ring still sees what the rule drops; locally originated packets
/// do not pass prerouting, so health checks still reach the TUN device, where the ring sees them leave.
/// </summary>
/// <remarks>
/// The TUN device and the VIP routes stay as with `io = "tun"`: proxy ARP/ND for on-link VIPs and the health checks
/// need the routes. A background thread reads and discards what reaches the TUN device (only the director's own
/// health checks, which the ring has already seen leave into it). Everything is undone on <see cref="Dispose"/> (table deleted, ring closed).
/// </remarks>
public sealed class AfPacketCapture : IDisposable
{
    private const string TablePrefix = "tunlb_capture_";
    private readonly string _table = TablePrefix + Environment.ProcessId;
    private readonly object _gate = new();
    private readonly int _tunIfindex;
    private readonly int[] _ifindexes;
    private readonly IReadOnlyList<string> _interfaces;
    private AfPacketRing[] _rings = [];
    private Thread? _drain;
    private volatile bool _stopping;
    private bool _tableCreated;
    private int _filterLength;
    private ServiceEndpoints _endpoints = ServiceEndpoints.Empty;

    private AfPacketCapture(int tunIfindex, int[] ifindexes, IReadOnlyList<string> interfaces)
    {
        _tunIfindex = tunIfindex; _ifindexes = ifindexes; _interfaces = interfaces;
    }

    /// <summary>The ports the workers read: one ring per worker (several rings share the traffic by flow hash).</summary>
    public IReadOnlyList<IPacketReceiver> Ports => _rings;
    /// <summary>The first ring (the only one with one worker).</summary>
    public AfPacketRing Ring => _rings[0];
    public string Table => _table;

    /// <summary>
    /// Opens the ring (filter first), then installs the nftables drop for <paramref name="endpoints"/>. Throws, with everything
    /// it did undone, when an interface does not exist, the service set is too large for the filter, or nft fails.
    /// </summary>
    /// <param name="tun">The TUN device: read and discarded by a background thread, so that health-check packets (already
    /// captured by the ring as they leave into it) do not pile up in its queue.</param>
    public static AfPacketCapture Start(string tunDevice, IPacketReceiver? tun, IReadOnlyList<string> captureInterfaces, ServiceEndpoints endpoints,
                                        Action<string>? logError = null, int rings = 1)
    {
        int tunIfindex = IfIndex(tunDevice, "tun_name");
        var ifs = captureInterfaces.Select(n => IfIndex(n, "capture_interfaces")).ToArray();
        var c = new AfPacketCapture(tunIfindex, ifs, captureInterfaces);
        try
        {
            Nftables.RemoveStaleTables(TablePrefix, logError);
            // Several rings join one PACKET_FANOUT_HASH group (unique to this process), so the kernel keeps a flow on one ring,
            // as the multi-queue TUN does for io = "tun"; fragments are reassembled for the hash (FANOUT_FLAG_DEFRAG).
            int group = rings > 1 ? Environment.ProcessId & 0xFFFF : -1;
            var filter = c.Filter(endpoints);
            c._rings = new AfPacketRing[rings];
            for (int i = 0; i < rings; i++) c._rings[i] = AfPacketRing.Open(filter, ifindex: 0, fanoutGroup: group);
            c.InstallTable(endpoints);
            if (tun is not null)
            {
                c._drain = new Thread(() => c.Drain(tun)) { IsBackground = true, Name = "tunlb-tun-drain" };
                c._drain.Start();
            }
            return c;
        }
        catch
        {
            c.Dispose();
            throw;
        }
    }

    /// <summary>Rebuilds the BPF filter and the nftables sets for a changed service set. Control plane; throws on failure.</summary>
    public void Update(ServiceEndpoints endpoints)
    {
        lock (_gate)
        {
            if (_rings.Length == 0 || endpoints.SetEquals(_endpoints)) return;
            var filter = Filter(endpoints);
            // Filter first: a new service is captured before the kernel stops forwarding it (meanwhile the kernel's copy goes
            // into the unread TUN device); a removed one goes back to the kernel.
            foreach (var r in _rings) r.UpdateFilter(filter);
            Nftables.Run(NftServiceSets.Elements(_table, endpoints, flush: true));
            _endpoints = endpoints;
        }
    }

    /// <summary>One line for the startup message.</summary>
    public string Describe() =>
        $"io afpacket: {(_rings.Length == 0 ? "" : _rings[0].Name)}{(_rings.Length > 1 ? $" x {_rings.Length} (one per worker, fanout by flow hash)" : "")}, BPF filter {_filterLength} instructions, capturing on " +
        (_interfaces.Count == 0 ? "all interfaces" : string.Join(",", _interfaces)) +
        $" + outgoing on the TUN device; nft table inet {_table} drops service traffic at prerouting";

    /// <summary>The counters as numbers (/metrics).</summary>
    public CaptureCounters Counters()
    {
        long frames = 0, supers = 0, segments = 0, trunc = 0, malformed = 0, unsupported = 0, kdrops = 0;
        foreach (var r in _rings)
        {
            frames += r.Frames; supers += r.SuperPackets; segments += r.Segments;
            trunc += r.DroppedTruncated; malformed += r.DroppedMalformed; unsupported += r.DroppedUnsupported;
            kdrops += r.ReadKernelStatistics().Item2;
        }
        return new CaptureCounters("afpacket", frames, 0, trunc, malformed, unsupported, kdrops, supers, segments);
    }

    /// <summary>Counters for the exit summary.</summary>
    public string Summary()
    {
        if (_rings.Length == 0) return "";
        long frames = 0, supers = 0, segments = 0, csums = 0, trunc = 0, malformed = 0, unsupported = 0, kdrops = 0;
        foreach (var r in _rings)
        {
            frames += r.Frames; supers += r.SuperPackets; segments += r.Segments; csums += r.ChecksumsCompleted;
            trunc += r.DroppedTruncated; malformed += r.DroppedMalformed; unsupported += r.DroppedUnsupported;
            kdrops += r.ReadKernelStatistics().Item2;
        }
        return $"ring{(_rings.Length > 1 ? "s" : "")}: {frames} frames, {supers} GSO super-packets cut into {segments} segments, " +
               $"{csums} checksums completed; ring drops: truncated={trunc} malformed={malformed} " +
               $"unsupported={unsupported} kernel_ring_full={kdrops}";
    }

    private void Drain(IPacketReceiver tun)
    {
        var buf = new byte[65536];
        while (!_stopping && tun.Receive(buf, 200) >= 0) { }
    }

    private Core.Egress.BpfInstruction[] Filter(ServiceEndpoints endpoints)
    {
        var f = CaptureBpf.Build(endpoints, _tunIfindex, _ifindexes);
        _filterLength = f.Length;
        return f;
    }

    private void InstallTable(ServiceEndpoints endpoints)
    {
        var sb = new StringBuilder();
        sb.Append($"table inet {_table} {{\n");
        sb.Append(NftServiceSets.Declarations);
        sb.Append("  chain prerouting {\n");
        sb.Append("    type filter hook prerouting priority raw; policy accept;\n");
        // Neighbour discovery to an on-link IPv6 VIP is no service traffic: it stays with the kernel's proxy ND entry.
        sb.Append(NftServiceSets.Rules("counter drop comment \"tunlb afpacket: the ring already took it\""));
        sb.Append("  }\n}\n");
        sb.Append(NftServiceSets.Elements(_table, endpoints, flush: false));
        _tableCreated = true; // from here on Dispose tries to delete it (deleting a missing table only logs)
        Nftables.Run(sb.ToString());
        _endpoints = endpoints;
    }

    private static int IfIndex(string name, string key)
    {
        uint i = NetworkInterfaces.IndexOf(name);
        if (i == 0) throw new InvalidOperationException($"{key}: no interface named \"{name}\" in this network namespace");
        return (int)i;
    }

    public void Dispose()
    {
        _stopping = true;
        _drain?.Join(2000);
        lock (_gate)
        {
            if (_tableCreated)
            {
                try { Nftables.Command("delete", "table", "inet", _table); }
                catch (HostNetworkException) { /* never created or already gone */ }
                _tableCreated = false;
            }
            foreach (var r in _rings) r.Dispose();
        }
    }
}
