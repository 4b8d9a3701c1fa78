using TunLB.Control.Configuration;
using TunLB.Core.DataPath;
using TunLB.Core.Flows;
using TunLB.Core.Packets;
using TunLB.Linux;

namespace TunLB.RealServer;

/// <summary>
/// The real-server agent: receives IPIP on a raw socket, accepts only packets from the configured directors
/// carrying packets for the configured VIPs, and injects the inner packet into a TUN device that holds the
/// VIPs. Local services bound to a VIP then answer the client directly, with the VIP as source.
/// </summary>
public sealed class RealServerAgent : IDisposable
{
    // Largest IPv4 datagram the raw socket can hand us (the kernel reassembles fragments first).
    private const int BufferSize = 65536;

    private readonly RealServerConfig _cfg;
    private readonly TextWriter _log;
    private readonly HostNetwork _net = new();
    private TunDevice? _tun;
    private RawIpSocket? _rx;
    private Thread? _worker;
    private volatile bool _stop;

    public DecapFilter Filter { get; }
    public long Injected;
    public long InjectErrors;

    public RealServerAgent(RealServerConfig cfg, TextWriter log)
    {
        _cfg = cfg; _log = log;
        Filter = new DecapFilter(cfg.Directors, cfg.Vips);
    }

    /// <summary>Sets up the host and starts the decapsulation worker. Returns the one-line description of what changed.</summary>
    public string Start()
    {
        try
        {
            _tun = TunDevice.Open(_cfg.TunName, out var dev);
            // IPv4 only until IPv6 VIPs land: keep the kernel from sending router solicitations and MLD into the device.
            _net.WriteSysctl($"net.ipv6.conf.{dev}.disable_ipv6", "1");
            _net.SetLinkUp(dev, 65515);
            foreach (var vip in _cfg.Vips)
                _net.AddAddress(dev, vip, vip.IsV4 ? 32 : 128);
            // Decapsulated packets arrive on the TUN device while the client is reached via the uplink, so strict
            // reverse-path filtering would drop them. The effective value is max(all, dev): use off when "all" is
            // off, loose otherwise.
            var all = _net.ReadSysctl("net.ipv4.conf.all.rp_filter").Trim();
            var rp = all == "0" ? "0" : "2";
            _net.WriteSysctl($"net.ipv4.conf.{dev}.rp_filter", rp);
            _rx = RawIpSocket.OpenReceiver(IpProtocol.IpIp);
            _worker = new Thread(Run) { IsBackground = true, Name = "tunlb-decap" };
            _worker.Start();
            return $"decap device {dev} up holding {string.Join(", ", _cfg.Vips.Select(v => v + "/32"))}; " +
                   $"rp_filter {dev}={rp}; accepting IPIP only from {string.Join(", ", _cfg.Directors)}";
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    private void Run()
    {
        var buf = GC.AllocateUninitializedArray<byte>(BufferSize, pinned: true);
        var rx = _rx!; var tun = _tun!;
        while (!_stop)
        {
            int n = rx.Receive(buf, 200);
            if (n <= 0) { if (n < 0) break; continue; }
            var verdict = Filter.Check(buf.AsSpan(0, n), out int off, out int len);
            if (verdict != DropReason.None) continue;
            if (tun.Send(buf.AsSpan(off, len), default)) Injected++;
            else InjectErrors++;
        }
    }

    public string Summary()
    {
        var drops = string.Join(" ", Enumerable.Range(1, DropReasons.Count - 1)
            .Where(i => Filter.Drops[i] != 0).Select(i => $"{DropReasons.Names[i]}={Filter.Drops[i]}"));
        return $"decapsulated {Filter.Accepted} packets, injected {Injected}, inject errors {InjectErrors}; dropped: {(drops.Length == 0 ? "none" : drops)}";
    }

    public void Dispose()
    {
        _stop = true;
        _worker?.Join(2000);
        _rx?.Dispose();
        _net.Dispose();
        _tun?.Dispose();
    }
}
