using System.Runtime.InteropServices;
using TunLB.Core.Flows;

namespace TunLB.Linux.Xdp;

/// <summary>
/// TunLB's XDP program on one device, with its maps: packets to a VIP go to the AF_XDP socket of their receive queue
/// (<see cref="XskSocket"/>), everything else to the kernel. The program is loaded with bpf(2) from instructions built
/// at run time (<see cref="XdpRedirectProgram"/>) and attached with BPF_LINK_CREATE, so it is detached when the link's
/// descriptor is closed: by <see cref="Dispose"/>, or by the kernel when the process dies, which leaves no program
/// behind on the device. The VIP set changes at run time with map updates; the program is not reloaded.
/// </summary>
/// <remarks>Control plane: every method is a system call and throws <see cref="NativeErrorException"/> on failure.</remarks>
public sealed unsafe class XdpVipRedirector : IDisposable
{
    /// <summary>Default capacity of each VIP map (IPv4 and IPv6); a hash map preallocates its entries (a few MB here).</summary>
    public const int DefaultMaxVips = 16384;

    private readonly BpfMap _xsks, _vips4, _vips6, _services4, _services6;
    private readonly int _progFd;
    private int _linkFd;
    private readonly HashSet<IpAddress> _vips = new();              // steered whole
    private readonly HashSet<XdpService> _services = new();         // steered by service
    private readonly Lock _lock = new();

    private XdpVipRedirector(int ifindex, int queueCount, BpfMap xsks, BpfMap vips4, BpfMap vips6, BpfMap services4, BpfMap services6,
        int progFd, int linkFd, XdpAttachMode mode, int instructions)
    {
        IfIndex = ifindex; QueueCount = queueCount; _xsks = xsks; _vips4 = vips4; _vips6 = vips6; _progFd = progFd;
        _services4 = services4; _services6 = services6;
        _linkFd = linkFd; Mode = mode; Instructions = instructions;
    }

    public int IfIndex { get; }
    /// <summary>Queues the socket map has room for (queue ids 0 .. QueueCount-1).</summary>
    public int QueueCount { get; }
    public XdpAttachMode Mode { get; }
    /// <summary>Length of the loaded program in instructions.</summary>
    public int Instructions { get; }
    public bool IsAttached => Volatile.Read(ref _linkFd) >= 0;

    /// <summary>
    /// Creates the maps, loads the program and attaches it to <paramref name="ifindex"/> in <paramref name="mode"/>;
    /// null: natively when the driver can, else in generic mode (<see cref="Mode"/> tells which). Fails with EBUSY when
    /// the device already has an XDP program. <paramref name="queueCount"/> is the number of receive queues that will
    /// get a socket (queue ids 0 .. queueCount-1).
    /// </summary>
    public static XdpVipRedirector Attach(int ifindex, int queueCount, XdpAttachMode? mode = null, int maxVips = DefaultMaxVips)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(ifindex, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(queueCount, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxVips, 1);
        BpfMap? xsks = null, vips4 = null, vips6 = null, services4 = null, services6 = null;
        int prog = -1;
        try
        {
            xsks = BpfMap.Create(Interop.BPF_MAP_TYPE_XSKMAP, "tunlb_xsks", sizeof(uint), sizeof(uint), queueCount);
            vips4 = BpfMap.Create(Interop.BPF_MAP_TYPE_HASH, "tunlb_vips4", 4, sizeof(uint), maxVips);
            vips6 = BpfMap.Create(Interop.BPF_MAP_TYPE_HASH, "tunlb_vips6", 16, sizeof(uint), maxVips);
            services4 = BpfMap.Create(Interop.BPF_MAP_TYPE_HASH, "tunlb_svcs4", XdpRedirectProgram.ServiceKeyLength4, sizeof(uint), maxVips);
            services6 = BpfMap.Create(Interop.BPF_MAP_TYPE_HASH, "tunlb_svcs6", XdpRedirectProgram.ServiceKeyLength6, sizeof(uint), maxVips);
            var code = XdpRedirectProgram.Build(xsks.Fd, vips4.Fd, vips6.Fd, services4.Fd, services6.Fd);
            prog = BpfProgram.LoadXdp(code, "tunlb_xdp");
            int link = XdpLink.Create(prog, ifindex, mode, out var taken);
            return new XdpVipRedirector(ifindex, queueCount, xsks, vips4, vips6, services4, services6, prog, link, taken, code.Length);
        }
        catch
        {
            if (prog >= 0) Interop.close(prog);
            xsks?.Dispose(); vips4?.Dispose(); vips6?.Dispose(); services4?.Dispose(); services6?.Dispose();
            throw;
        }
    }

    /// <summary>As <see cref="Attach(int, int, XdpAttachMode?, int)"/>, by device name (looked up in the calling thread's namespace).</summary>
    public static XdpVipRedirector Attach(string device, int queueCount, XdpAttachMode? mode = null, int maxVips = DefaultMaxVips)
    {
        int ifindex = (int)Interop.if_nametoindex(device);
        if (ifindex == 0) throw NativeErrorException.FromLastError($"if_nametoindex {device}");
        return Attach(ifindex, queueCount, mode, maxVips);
    }

    /// <summary>Steers every packet to <paramref name="vip"/> (an IPv4 /32 or IPv6 /128) to the sockets from the next packet on.</summary>
    public void AddVip(in IpAddress vip)
    {
        lock (_lock)
        {
            _vips.Add(vip);
            WriteVip(vip);
        }
    }

    /// <summary>Stops steering <paramref name="vip"/> whole (its services, if any, stay); false when it was not steered whole.</summary>
    public bool RemoveVip(in IpAddress vip)
    {
        lock (_lock)
        {
            bool removed = _vips.Remove(vip);
            return WriteVip(vip) && removed;
        }
    }

    /// <summary>
    /// Makes the steered services exactly <paramref name="services"/>: a packet to one of their VIPs goes to the sockets
    /// only when it is TCP/UDP to a listed (VIP, protocol, port), to a listed (VIP, protocol, 0), or a non-first fragment.
    /// New entries are added before stale ones are removed, so a service that stays never misses a packet.
    /// </summary>
    public void SetServices(IEnumerable<XdpService> services)
    {
        lock (_lock)
        {
            var wanted = new HashSet<XdpService>(services);
            var oldVips = _services.Select(s => s.Vip).ToHashSet();
            foreach (var s in wanted)
            {
                if (!_services.Add(s)) continue;
                WriteService(s, add: true);
            }
            foreach (var v in wanted.Select(s => s.Vip).Distinct()) WriteVip(v);
            foreach (var s in _services.ToArray())
            {
                if (wanted.Contains(s)) continue;
                _services.Remove(s);
                WriteService(s, add: false);
            }
            foreach (var v in oldVips) WriteVip(v);
        }
    }

    /// <summary>The services this instance steers.</summary>
    public IReadOnlyCollection<XdpService> Services { get { lock (_lock) return _services.ToArray(); } }

    /// <summary>Whether the kernel's service map holds <paramref name="service"/>.</summary>
    public bool ContainsService(in XdpService service)
    {
        Span<byte> key = stackalloc byte[XdpRedirectProgram.ServiceKeyLength6];
        return ServiceKey(service, key, out int len).Contains(key[..len]);
    }

    /// <summary>Writes the VIP map's entry for <paramref name="vip"/> from the local sets (deleted when nothing steers it); true when there was one.</summary>
    private bool WriteVip(in IpAddress vip)
    {
        Span<byte> key = stackalloc byte[16];
        var map = MapFor(vip, key, out int len);
        uint flags = (_vips.Contains(vip) ? (uint)XdpRedirectProgram.SteerWholeVip : 0) |
                     (HasServices(vip) ? (uint)XdpRedirectProgram.SteerServices : 0);
        bool had = map.Contains(key[..len]);
        if (flags == 0) return map.Delete(key[..len]);
        map.Update(key[..len], new ReadOnlySpan<byte>(&flags, 4));
        return had;
    }

    private bool HasServices(in IpAddress vip)
    {
        foreach (var s in _services) if (s.Vip == vip) return true;
        return false;
    }

    private void WriteService(in XdpService service, bool add)
    {
        Span<byte> key = stackalloc byte[XdpRedirectProgram.ServiceKeyLength6];
        var map = ServiceKey(service, key, out int len);
        uint one = 1;
        if (add) map.Update(key[..len], new ReadOnlySpan<byte>(&one, 4));
        else map.Delete(key[..len]);
    }

    /// <summary>The key as the program builds it: address, destination port (network order), protocol, a zero byte.</summary>
    private BpfMap ServiceKey(in XdpService s, Span<byte> key, out int length)
    {
        key.Clear();
        int at = s.Vip.IsV4 ? 4 : 16;
        if (s.Vip.IsV4) s.Vip.WriteV4(key); else s.Vip.WriteV6(key);
        key[at] = (byte)(s.Port >> 8); key[at + 1] = (byte)s.Port;
        key[at + 2] = s.Protocol;
        length = at + 4;
        return s.Vip.IsV4 ? _services4 : _services6;
    }

    /// <summary>Whether the kernel's map holds <paramref name="vip"/> (reads the map, not a local copy).</summary>
    public bool ContainsVip(in IpAddress vip)
    {
        Span<byte> key = stackalloc byte[16];
        return MapFor(vip, key, out int len).Contains(key[..len]);
    }

    /// <summary>Makes the steered set exactly <paramref name="vips"/>: adds the new ones first, then removes the rest.</summary>
    public void SetVips(IEnumerable<IpAddress> vips)
    {
        lock (_lock)
        {
            var wanted = new HashSet<IpAddress>(vips);
            foreach (var v in wanted) if (!_vips.Contains(v)) AddVip(v);
            foreach (var v in _vips.ToArray()) if (!wanted.Contains(v)) RemoveVip(v);
        }
    }

    /// <summary>The VIPs this instance steers.</summary>
    public IReadOnlyCollection<IpAddress> Vips { get { lock (_lock) return _vips.ToArray(); } }

    private BpfMap MapFor(in IpAddress vip, Span<byte> key, out int length)
    {
        if (vip.IsV4) { vip.WriteV4(key); length = 4; return _vips4; }
        vip.WriteV6(key); length = 16; return _vips6;
    }

    /// <summary>Puts an AF_XDP socket bound to <paramref name="queueId"/> of this device into the socket map.</summary>
    internal void RegisterSocket(int queueId, int xskFd)
    {
        if ((uint)queueId >= (uint)QueueCount)
            throw new ArgumentOutOfRangeException(nameof(queueId), $"the socket map has {QueueCount} queues");
        uint key = (uint)queueId, value = (uint)xskFd;
        _xsks.Update(new ReadOnlySpan<byte>(&key, 4), new ReadOnlySpan<byte>(&value, 4));
    }

    /// <summary>
    /// Detaches the program (closing the link) and frees the maps. Sockets stay open; they just stop receiving. The
    /// kernel detaches when the link's last reference goes, so a child process forked by another thread just then
    /// delays it until that child's exec closes its copy (the descriptor is close-on-exec).
    /// </summary>
    public void Dispose()
    {
        int link = Interlocked.Exchange(ref _linkFd, -1);
        if (link < 0) return;
        Interop.close(link);
        Interop.close(_progFd);
        _xsks.Dispose(); _vips4.Dispose(); _vips6.Dispose(); _services4.Dispose(); _services6.Dispose();
    }

    public override string ToString() =>
        $"XDP program tunlb_xdp ({Instructions} instructions, {Mode}) on ifindex {IfIndex}, {QueueCount} queue(s)";
}
