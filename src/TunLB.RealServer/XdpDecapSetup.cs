using TunLB.Control.Configuration;
using TunLB.Core.Flows;
using TunLB.Linux;
using TunLB.Linux.Xdp;

namespace TunLB.RealServer;

/// <summary>
/// <c>decap = "xdp"</c>: loads <see cref="XdpDecapsulator"/>, attaches it to the configured devices (or every routed
/// Ethernet device), fills its maps (directors, VIPs, this host's addresses, of both families; kept current while it runs)
/// and makes sure reverse-path filtering on those devices is not strict, since decapsulated packets carry the
/// client's address. A device that refuses the program is named and left to the agent's user-space path.
/// </summary>
internal sealed class XdpDecapSetup : IDisposable
{
    private readonly XdpDecapsulator _decap;
    private IDisposable? _watch;
    private readonly HostNetwork _net;
    private readonly HashSet<IpAddress> _vips;

    private XdpDecapSetup(XdpDecapsulator decap, HostNetwork net, HashSet<IpAddress> vips)
    {
        _decap = decap; _net = net; _vips = vips;
    }

    public XdpDecapsulator Decapsulator => _decap;

    /// <summary>Starts it; returns null with the reason in <paramref name="describe"/> when nothing could be attached.</summary>
    public static XdpDecapSetup? Start(RealServerConfig cfg, HostNetwork net, string tunDevice, out string describe)
    {
        var vips = cfg.Vips.ToHashSet();
        if (vips.Count == 0 || cfg.Directors.Count == 0)
        {
            describe = "decap = \"xdp\": no VIP or no director, so nothing is decapsulated in XDP (the agent does it all)";
            return null;
        }
        XdpDecapsulator decap;
        try { decap = XdpDecapsulator.Load(guePort: cfg.Gue ? cfg.GuePort : 0); }
        catch (NativeErrorException e)
        {
            describe = $"decap = \"xdp\" unavailable ({e.Message}); the agent decapsulates everything";
            return null;
        }
        var devices = cfg.XdpDevices.Count > 0 ? cfg.XdpDevices : XdpInterfaces.Routed(net, tunDevice);
        var attached = new List<string>();
        var refused = new List<string>();
        foreach (var dev in devices)
        {
            try { attached.Add($"{dev} ({(decap.Attach(dev) == XdpAttachMode.Native ? "native" : "generic")})"); }
            catch (NativeErrorException e) { refused.Add($"{dev}: {e.Message}"); }
        }
        if (attached.Count == 0)
        {
            decap.Dispose();
            describe = $"decap = \"xdp\" attached to no device ({(refused.Count == 0 ? "no routed Ethernet device" : string.Join("; ", refused))}); the agent decapsulates everything";
            return null;
        }
        var setup = new XdpDecapSetup(decap, net, vips);
        string watching = "", rp;
        try
        {
            decap.SetDirectors(cfg.Directors);
            decap.SetVips(vips);
            setup.RefreshLocals();
            // Addresses come and go (DHCP, a new tunnel address): keep the map of ours current. A missed change only sends
            // those tunnels through the agent's raw socket instead.
            try { setup._watch = net.WatchAddresses(setup.RefreshLocals); }
            catch (HostNetworkException e)
            {
                watching = $"; this host's addresses are read once ({e.Message})";
            }
            rp = LooseReversePath(net, decap.Devices.Select(d => d.Device));
        }
        catch (Exception e) when (e is NativeErrorException or HostNetworkException or IOException or UnauthorizedAccessException)
        {
            // Half set up is not set up: detach from every device, so the agent's raw socket sees all tunnels again.
            setup.Dispose();
            describe = $"decap = \"xdp\" could not be set up ({e.Message}); detached again, the agent decapsulates everything";
            return null;
        }
        describe = $"IP-in-IP decapsulated by XDP ({Families(cfg)}; {decap.Instructions} instructions) on {string.Join(", ", attached)}" +
                   (refused.Count > 0 ? $" (refused: {string.Join("; ", refused)})" : "") + rp + watching;
        return setup;
    }

    /// <summary>The tunnels the program can take given the configured families and GUE, e.g. "IPv4 and IPv6 in IPv4".</summary>
    private static string Families(RealServerConfig cfg)
    {
        static string Of(bool v4, bool v6) => v4 && v6 ? "IPv4 and IPv6" : v4 ? "IPv4" : "IPv6";
        var families = $"{Of(cfg.Vips.Any(v => v.IsV4), cfg.Vips.Any(v => !v.IsV4))} in {Of(cfg.Directors.Any(d => d.IsV4), cfg.Directors.Any(d => !d.IsV4))}";
        return cfg.Gue && cfg.Directors.Any(d => d.IsV4) ? $"{families}; GUE on port {cfg.GuePort} over IPv4 without UDP checksum" : families;
    }

    private void RefreshLocals()
    {
        try { _decap.SetLocalAddresses(_net.Addresses().Select(a => a.Address).Where(a => !_vips.Contains(a))); }
        catch (Exception) { /* the previous set stays; the raw-socket path takes what it misses */ }
    }

    /// <summary>Strict reverse-path filtering (effective max(all, dev) = 1) would drop the client's packets: set the device loose.</summary>
    private static string LooseReversePath(HostNetwork net, IEnumerable<string> devices)
    {
        var changed = new List<string>();
        int all = int.TryParse(net.ReadSysctl("net.ipv4.conf.all.rp_filter").Trim(), out int a) ? a : 0;
        foreach (var dev in devices)
        {
            int mine = int.TryParse(net.ReadSysctl($"net.ipv4.conf.{dev}.rp_filter").Trim(), out int m) ? m : 0;
            if (Math.Max(all, mine) != 1) continue;
            net.WriteSysctl($"net.ipv4.conf.{dev}.rp_filter", "2");
            changed.Add(dev);
        }
        return changed.Count == 0 ? "" : $"; rp_filter loose (2) on {string.Join(", ", changed)}";
    }

    public void Dispose()
    {
        _watch?.Dispose();
        _decap.Dispose();
    }
}
