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

    private readonly BpfMap _xsks, _vips4, _vips6;
    private readonly int _progFd;
    private int _linkFd;
    private readonly HashSet<IpAddress> _vips = new();
    private readonly Lock _lock = new();

    private XdpVipRedirector(int ifindex, int queueCount, BpfMap xsks, BpfMap vips4, BpfMap vips6, int progFd, int linkFd,
        XdpAttachMode mode, int instructions)
    {
        IfIndex = ifindex; QueueCount = queueCount; _xsks = xsks; _vips4 = vips4; _vips6 = vips6; _progFd = progFd;
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
        BpfMap? xsks = null, vips4 = null, vips6 = null;
        int prog = -1;
        try
        {
            xsks = BpfMap.Create(Interop.BPF_MAP_TYPE_XSKMAP, "tunlb_xsks", sizeof(uint), sizeof(uint), queueCount);
            vips4 = BpfMap.Create(Interop.BPF_MAP_TYPE_HASH, "tunlb_vips4", 4, sizeof(uint), maxVips);
            vips6 = BpfMap.Create(Interop.BPF_MAP_TYPE_HASH, "tunlb_vips6", 16, sizeof(uint), maxVips);
            var code = XdpRedirectProgram.Build(xsks.Fd, vips4.Fd, vips6.Fd);
            prog = BpfProgram.LoadXdp(code, "tunlb_xdp");
            var taken = mode ?? XdpAttachMode.Native;
            int link = Link(prog, ifindex, taken);
            if (link < 0 && mode is null && Marshal.GetLastPInvokeError() is Interop.EOPNOTSUPP or Interop.EINVAL)
                link = Link(prog, ifindex, taken = XdpAttachMode.Generic); // the driver has no native XDP
            if (link < 0) throw NativeErrorException.FromLastError($"bpf(BPF_LINK_CREATE) XDP {taken} mode on ifindex {ifindex}");
            return new XdpVipRedirector(ifindex, queueCount, xsks, vips4, vips6, prog, link, taken, code.Length);
        }
        catch
        {
            if (prog >= 0) Interop.close(prog);
            xsks?.Dispose(); vips4?.Dispose(); vips6?.Dispose();
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

    private static int Link(int prog, int ifindex, XdpAttachMode mode)
    {
        Interop.bpf_attr_link_create attr = new()
        {
            prog_fd = (uint)prog, target_ifindex = (uint)ifindex, attach_type = Interop.BPF_XDP,
            flags = mode == XdpAttachMode.Native ? Interop.XDP_FLAGS_DRV_MODE : Interop.XDP_FLAGS_SKB_MODE,
        };
        return Interop.bpf(Interop.BPF_LINK_CREATE, &attr, (uint)sizeof(Interop.bpf_attr_link_create));
    }

    /// <summary>Steers <paramref name="vip"/> (an IPv4 /32 or IPv6 /128) to the sockets from the next packet on.</summary>
    public void AddVip(in IpAddress vip)
    {
        Span<byte> key = stackalloc byte[16];
        Span<byte> one = stackalloc byte[4] { 1, 0, 0, 0 };
        lock (_lock)
        {
            MapFor(vip, key, out int len).Update(key[..len], one);
            _vips.Add(vip);
        }
    }

    /// <summary>Stops steering <paramref name="vip"/>; false when it was not steered.</summary>
    public bool RemoveVip(in IpAddress vip)
    {
        Span<byte> key = stackalloc byte[16];
        lock (_lock)
        {
            bool removed = MapFor(vip, key, out int len).Delete(key[..len]);
            _vips.Remove(vip);
            return removed;
        }
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
        _xsks.Dispose(); _vips4.Dispose(); _vips6.Dispose();
    }

    public override string ToString() =>
        $"XDP program tunlb_xdp ({Instructions} instructions, {Mode}) on ifindex {IfIndex}, {QueueCount} queue(s)";
}
