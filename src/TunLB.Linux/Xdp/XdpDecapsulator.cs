using System.Buffers.Binary;
using TunLB.Core.Flows;

namespace TunLB.Linux.Xdp;

/// <summary>
/// The real server's XDP decapsulation (<see cref="XdpDecapProgram"/>) on one or more devices, with its maps: IP-in-IP of
/// either family in either family (and, with a GUE port, checksum-less GUE over IPv4), from a director to one of this
/// host's addresses for a VIP, loses its outer headers before the kernel stack sees it, so no user-space process
/// touches those packets. One program and one set of maps
/// serve every device; each device has its own BPF link, so closing the links (<see cref="Dispose"/>, or the process
/// dying) leaves nothing attached.
/// </summary>
/// <remarks>Control plane: every method is a system call and throws <see cref="NativeErrorException"/> on failure.</remarks>
public sealed class XdpDecapsulator : IDisposable
{
    /// <summary>The addresses of one role (directors, this host's, VIPs): a map per family and what they hold.</summary>
    private sealed class AddressMaps(BpfMap v4, BpfMap v6) : IDisposable
    {
        public readonly BpfMap V4 = v4, V6 = v6;
        public readonly HashSet<IpAddress> Current = new();
        public void Dispose() { V4.Dispose(); V6.Dispose(); }
    }

    private readonly AddressMaps _directors, _locals, _vips;
    private readonly BpfMap _counters;
    private readonly int _progFd;
    private readonly List<(string Device, int Link, XdpAttachMode Mode)> _links = new();
    private readonly int _cpus;
    private bool _disposed;

    private XdpDecapsulator(AddressMaps directors, AddressMaps locals, AddressMaps vips, BpfMap counters, int progFd, int instructions)
    {
        _directors = directors; _locals = locals; _vips = vips; _counters = counters; _progFd = progFd;
        Instructions = instructions;
        _cpus = BpfMap.PossibleCpus();
    }

    /// <summary>Length of the loaded program in instructions.</summary>
    public int Instructions { get; }

    /// <summary>The devices the program is attached to, and how.</summary>
    public IReadOnlyList<(string Device, XdpAttachMode Mode)> Devices => _links.Select(l => (l.Device, l.Mode)).ToArray();

    /// <summary>Creates the maps and loads the program (attached to nothing yet).</summary>
    /// <param name="guePort">Also decapsulate GUE over IPv4 to this UDP port (without UDP checksum); 0 for none.</param>
    public static XdpDecapsulator Load(int maxEntries = 4096, int guePort = 0)
    {
        var maps = new List<BpfMap>();
        BpfMap Map(uint type, string name, int keySize, int valueSize, int entries)
        {
            var m = BpfMap.Create(type, name, keySize, valueSize, entries);
            maps.Add(m);
            return m;
        }
        AddressMaps Addresses(string name) =>
            new(Map(Interop.BPF_MAP_TYPE_HASH, name + "4", 4, 1, maxEntries), Map(Interop.BPF_MAP_TYPE_HASH, name + "6", 16, 1, maxEntries));
        try
        {
            var directors = Addresses("tunlb_dirs");
            var locals = Addresses("tunlb_locals");
            var vips = Addresses("tunlb_rsvips");
            var counters = Map(Interop.BPF_MAP_TYPE_PERCPU_ARRAY, "tunlb_decapn", 4, XdpDecapProgram.CounterValueSize, 1);
            var code = XdpDecapProgram.Build(directors.V4.Fd, locals.V4.Fd, vips.V4.Fd, directors.V6.Fd, locals.V6.Fd, vips.V6.Fd, counters.Fd, guePort);
            int prog = BpfProgram.LoadXdp(code, "tunlb_decap");
            return new XdpDecapsulator(directors, locals, vips, counters, prog, code.Length);
        }
        catch
        {
            foreach (var m in maps) m.Dispose();
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

    /// <summary>Accepts tunnels from these directors (IPv4 and IPv6).</summary>
    public void SetDirectors(IEnumerable<IpAddress> directors) => Fill(_directors, directors);

    /// <summary>Accepts tunnels addressed to these addresses of this host.</summary>
    public void SetLocalAddresses(IEnumerable<IpAddress> addresses) => Fill(_locals, addresses);

    /// <summary>Decapsulates only packets for these VIPs.</summary>
    public void SetVips(IEnumerable<IpAddress> vips) => Fill(_vips, vips);

    /// <summary>Makes the maps hold exactly <paramref name="addresses"/>, each in its family's map: new ones first, then stale ones go.</summary>
    private static void Fill(AddressMaps maps, IEnumerable<IpAddress> addresses)
    {
        var wanted = addresses.ToHashSet();
        lock (maps)
        {
            Span<byte> key = stackalloc byte[16];
            ReadOnlySpan<byte> one = [1];
            foreach (var a in wanted)
            {
                if (maps.Current.Contains(a)) continue;
                (a.IsV4 ? maps.V4 : maps.V6).Update(KeyOf(a, key), one);
                maps.Current.Add(a);
            }
            foreach (var a in maps.Current.Where(a => !wanted.Contains(a)).ToList())
            {
                (a.IsV4 ? maps.V4 : maps.V6).Delete(KeyOf(a, key));
                maps.Current.Remove(a);
            }
        }
    }

    /// <summary>The address's wire bytes: 4 for IPv4, 16 for IPv6.</summary>
    private static ReadOnlySpan<byte> KeyOf(IpAddress a, Span<byte> key)
    {
        if (a.IsV4) { a.WriteV4(key); return key[..4]; }
        a.WriteV6(key);
        return key;
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
        _directors.Dispose(); _locals.Dispose(); _vips.Dispose(); _counters.Dispose();
    }
}
