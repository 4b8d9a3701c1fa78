using System.Text;
using TunLB.Core.Capture;
using TunLB.Core.Flows;

namespace TunLB.Linux;

/// <summary>
/// The `io = "afpacket"` capture backend's setup: a TPACKET_V2 ring (<see cref="AfPacketRing"/>) bound to all interfaces
/// whose BPF filter keeps IPv4/IPv6 packets to a VIP arriving on the capture interfaces plus the director's own packets
/// to a VIP leaving into the TUN device (health checks through the tunnel), and an nftables table, unique to this
/// process, that drops VIP traffic at prerouting (raw priority) so the kernel does not also forward it into the TUN
/// device. AF_PACKET taps run before netfilter, so the ring still sees what the rule drops; locally originated packets
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
    /// Opens the ring (filter first), then installs the nftables drop for <paramref name="vips"/>. Throws, with everything
    /// it did undone, when an interface does not exist, the VIP set is too large for the filter, or nft fails.
    /// </summary>
    /// <param name="tun">The TUN device: read and discarded by a background thread, so that health-check packets (already
    /// captured by the ring as they leave into it) do not pile up in its queue.</param>
    public static AfPacketCapture Start(string tunDevice, IPacketReceiver? tun, IReadOnlyList<string> captureInterfaces, IReadOnlyCollection<IpAddress> vips,
                                        Action<string>? logError = null, int rings = 1)
    {
        int tunIfindex = IfIndex(tunDevice, "tun_name");
        var ifs = captureInterfaces.Select(n => IfIndex(n, "capture_interfaces")).ToArray();
        var c = new AfPacketCapture(tunIfindex, ifs, captureInterfaces);
        try
        {
            RemoveStaleTables(logError);
            // Several rings join one PACKET_FANOUT_HASH group (unique to this process), so the kernel keeps a flow on one ring,
            // as the multi-queue TUN does for io = "tun"; fragments are reassembled for the hash (FANOUT_FLAG_DEFRAG).
            int group = rings > 1 ? Environment.ProcessId & 0xFFFF : -1;
            var filter = c.Filter(vips);
            c._rings = new AfPacketRing[rings];
            for (int i = 0; i < rings; i++) c._rings[i] = AfPacketRing.Open(filter, ifindex: 0, fanoutGroup: group);
            c.InstallTable(vips);
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

    /// <summary>Rebuilds the BPF filter and the nftables VIP sets for a changed VIP set. Control plane; throws on failure.</summary>
    public void UpdateVips(IReadOnlyCollection<IpAddress> vips)
    {
        lock (_gate)
        {
            if (_rings.Length == 0) return;
            var filter = Filter(vips);
            // Filter first: a new VIP is captured before the kernel stops forwarding it (meanwhile the kernel's copy goes
            // into the unread TUN device); a removed VIP goes back to the kernel, whose route into the TUN device the
            // director removes.
            foreach (var r in _rings) r.UpdateFilter(filter);
            Nftables.Run(SetScript(vips, flush: true));
        }
    }

    /// <summary>One line for the startup message.</summary>
    public string Describe() =>
        $"io afpacket: {(_rings.Length == 0 ? "" : _rings[0].Name)}{(_rings.Length > 1 ? $" x {_rings.Length} (one per worker, fanout by flow hash)" : "")}, BPF filter {_filterLength} instructions, capturing on " +
        (_interfaces.Count == 0 ? "all interfaces" : string.Join(",", _interfaces)) +
        $" + outgoing on the TUN device; nft table inet {_table} drops VIP traffic at prerouting";

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

    private Core.Egress.BpfInstruction[] Filter(IReadOnlyCollection<IpAddress> vips)
    {
        var f = CaptureBpf.Build(vips, _tunIfindex, _ifindexes);
        _filterLength = f.Length;
        return f;
    }

    private void InstallTable(IReadOnlyCollection<IpAddress> vips)
    {
        var sb = new StringBuilder();
        sb.Append($"table inet {_table} {{\n");
        sb.Append("  set vips4 { type ipv4_addr; }\n");
        sb.Append("  set vips6 { type ipv6_addr; }\n");
        sb.Append("  chain prerouting {\n");
        sb.Append("    type filter hook prerouting priority raw; policy accept;\n");
        sb.Append("    ip daddr @vips4 counter drop comment \"tunlb afpacket: the ring already took it\"\n");
        // Neighbour discovery stays with the kernel: a router's unicast NUD probe to an on-link IPv6 VIP must reach the
        // proxy ND entry (the ring also sees it; the engine drops it as icmp_unsupported).
        sb.Append("    ip6 daddr @vips6 icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept\n");
        sb.Append("    ip6 daddr @vips6 counter drop comment \"tunlb afpacket: the ring already took it\"\n");
        sb.Append("  }\n}\n");
        sb.Append(SetScript(vips, flush: false));
        _tableCreated = true; // from here on Dispose tries to delete it (deleting a missing table only logs)
        Nftables.Run(sb.ToString());
    }

    private string SetScript(IReadOnlyCollection<IpAddress> vips, bool flush)
    {
        var sb = new StringBuilder();
        if (flush)
        {
            sb.Append($"flush set inet {_table} vips4\n");
            sb.Append($"flush set inet {_table} vips6\n");
        }
        var v4 = vips.Where(v => v.IsV4).ToList();
        var v6 = vips.Where(v => !v.IsV4).ToList();
        if (v4.Count > 0) sb.Append($"add element inet {_table} vips4 {{ {string.Join(", ", v4)} }}\n");
        if (v6.Count > 0) sb.Append($"add element inet {_table} vips6 {{ {string.Join(", ", v6)} }}\n");
        return sb.ToString();
    }

    /// <summary>Deletes tables left by directors that died without cleaning up (their process id no longer exists).</summary>
    private static void RemoveStaleTables(Action<string>? logError)
    {
        try
        {
            foreach (var line in Nftables.Command("list", "tables", "inet").Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                var name = line.Trim().Split(' ').LastOrDefault() ?? "";
                if (!name.StartsWith(TablePrefix, StringComparison.Ordinal)) continue;
                if (!int.TryParse(name.AsSpan(TablePrefix.Length), out int pid) || pid == Environment.ProcessId) continue;
                if (Directory.Exists($"/proc/{pid}")) continue;
                Nftables.Command("delete", "table", "inet", name);
                logError?.Invoke($"tunlb director: removed stale nft table inet {name} (process {pid} is gone)");
            }
        }
        catch (HostNetworkException e) { logError?.Invoke($"tunlb director: cannot list nft tables: {e.Message}"); }
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
