using System.Buffers.Binary;
using TunLB.Core.Flows;

namespace TunLB.Linux.Xdp;

/// <summary>
/// The real server's XDP decapsulation (<see cref="XdpDecapProgram"/>) on one or more devices, with its maps: IPv4-in-IPv4
/// from a director to one of this host's addresses for a VIP loses its outer header before the kernel stack sees it,
/// so no user-space process touches those packets. One program and one set of maps serve every device; each device has
/// its own BPF link, so closing the links (<see cref="Dispose"/>, or the process dying) leaves nothing attached.
/// </summary>
/// <remarks>Control plane: every method is a system call and throws <see cref="NativeErrorException"/> on failure.</remarks>
public sealed class XdpDecapsulator : IDisposable
{
    private readonly BpfMap _directors4, _locals4, _vips4, _counters;
    private readonly int _progFd;
    private readonly List<(string Device, int Link, XdpAttachMode Mode)> _links = new();
    private readonly int _cpus;
    private bool _disposed;
    private readonly HashSet<IpAddress> _directors = new(), _locals = new(), _vipSet = new();

    private XdpDecapsulator(BpfMap directors4, BpfMap locals4, BpfMap vips4, BpfMap counters, int progFd, int instructions)
    {
        _directors4 = directors4; _locals4 = locals4; _vips4 = vips4; _counters = counters; _progFd = progFd;
        Instructions = instructions;
        _cpus = BpfMap.PossibleCpus();
    }

    /// <summary>Length of the loaded program in instructions.</summary>
    public int Instructions { get; }

    /// <summary>The devices the program is attached to, and how.</summary>
    public IReadOnlyList<(string Device, XdpAttachMode Mode)> Devices => _links.Select(l => (l.Device, l.Mode)).ToArray();

    /// <summary>Creates the maps and loads the program (attached to nothing yet).</summary>
    public static XdpDecapsulator Load(int maxEntries = 4096)
    {
        BpfMap? directors = null, locals = null, vips = null, counters = null;
        try
        {
            directors = BpfMap.Create(Interop.BPF_MAP_TYPE_HASH, "tunlb_dirs4", 4, 1, maxEntries);
            locals = BpfMap.Create(Interop.BPF_MAP_TYPE_HASH, "tunlb_locals4", 4, 1, maxEntries);
            vips = BpfMap.Create(Interop.BPF_MAP_TYPE_HASH, "tunlb_rsvips4", 4, 1, maxEntries);
            counters = BpfMap.Create(Interop.BPF_MAP_TYPE_PERCPU_ARRAY, "tunlb_decapn", 4, XdpDecapProgram.CounterValueSize, 1);
            var code = XdpDecapProgram.Build(directors.Fd, locals.Fd, vips.Fd, counters.Fd);
            int prog = BpfProgram.LoadXdp(code, "tunlb_decap");
            return new XdpDecapsulator(directors, locals, vips, counters, prog, code.Length);
        }
        catch
        {
            directors?.Dispose(); locals?.Dispose(); vips?.Dispose(); counters?.Dispose();
            throw;
        }
    }

    /// <summary>Attaches the program to <paramref name="device"/> (natively when the driver can, else generic); returns the mode taken.</summary>
    public XdpAttachMode Attach(string device, XdpAttachMode? mode = null)
    {
        int ifindex = (int)Interop.if_nametoindex(device);
        if (ifindex == 0) throw NativeErrorException.FromLastError($"if_nametoindex {device}");
        int link = XdpLink.Create(_progFd, ifindex, mode, out var taken);
        lock (_links) _links.Add((device, link, taken));
        return taken;
    }

    /// <summary>Accepts tunnels from these directors (IPv6 ones are ignored: only IPv4-in-IPv4 is decapsulated here).</summary>
    public void SetDirectors(IEnumerable<IpAddress> directors) => Fill(_directors4, _directors, directors);

    /// <summary>Accepts tunnels addressed to these addresses of this host.</summary>
    public void SetLocalAddresses(IEnumerable<IpAddress> addresses) => Fill(_locals4, _locals, addresses);

    /// <summary>Decapsulates only packets for these VIPs.</summary>
    public void SetVips(IEnumerable<IpAddress> vips) => Fill(_vips4, _vipSet, vips);

    /// <summary>Makes <paramref name="map"/> hold exactly the IPv4 <paramref name="addresses"/>: new ones first, then stale ones go.</summary>
    private static void Fill(BpfMap map, HashSet<IpAddress> current, IEnumerable<IpAddress> addresses)
    {
        var wanted = addresses.Where(a => a.IsV4).ToHashSet();
        lock (current)
        {
            Span<byte> key = stackalloc byte[4];
            ReadOnlySpan<byte> one = [1];
            foreach (var a in wanted)
            {
                if (current.Contains(a)) continue;
                BinaryPrimitives.WriteUInt32BigEndian(key, a.V4);
                map.Update(key, one);
                current.Add(a);
            }
            foreach (var a in current.Where(a => !wanted.Contains(a)).ToList())
            {
                BinaryPrimitives.WriteUInt32BigEndian(key, a.V4);
                map.Delete(key);
                current.Remove(a);
            }
        }
    }

    /// <summary>Packets decapsulated so far and their inner bytes, summed over CPUs.</summary>
    public (long Packets, long Bytes) Counters()
    {
        Span<byte> key = stackalloc byte[4];
        key.Clear();
        var values = new byte[XdpDecapProgram.CounterValueSize * _cpus];
        if (!_counters.TryLookup(key, values)) return (0, 0);
        long packets = 0, bytes = 0;
        for (int cpu = 0; cpu < _cpus; cpu++)
        {
            var v = values.AsSpan(cpu * XdpDecapProgram.CounterValueSize);
            packets += (long)BinaryPrimitives.ReadUInt64LittleEndian(v);
            bytes += (long)BinaryPrimitives.ReadUInt64LittleEndian(v[8..]);
        }
        return (packets, bytes);
    }

    /// <summary>Detaches from every device (closing the links) and frees the program and maps.</summary>
    public void Dispose()
    {
        lock (_links)
        {
            if (_disposed) return;
            _disposed = true;
            foreach (var (_, link, _) in _links) Interop.close(link);
            _links.Clear();
            Interop.close(_progFd);
        }
        _directors4.Dispose(); _locals4.Dispose(); _vips4.Dispose(); _counters.Dispose();
    }
}
