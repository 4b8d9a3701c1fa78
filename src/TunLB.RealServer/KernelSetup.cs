using TunLB.Control.Configuration;

namespace TunLB.RealServer;

/// <summary>
/// The kernel-IPIP equivalent of a real-server config, for hosts whose kernel has the ipip module and that
/// prefer it to the userspace agent. Includes the source filter that tunl0 itself lacks.
/// </summary>
public static class KernelSetup
{
    public static string Render(RealServerConfig cfg)
    {
        var w = new StringWriter();
        w.WriteLine($"# Kernel IPIP real-server setup equivalent to {cfg.SourcePath}");
        w.WriteLine("# Run as root on the real server. The TunLB agent is then not needed.");
        w.WriteLine("modprobe ipip");
        w.WriteLine("ip link set tunl0 up");
        foreach (var vip in cfg.Vips)
            w.WriteLine($"ip addr add {vip}/32 dev tunl0");
        w.WriteLine("# Do not answer ARP for the VIPs, and never use them as ARP source (LVS-TUN/DR 'ARP problem').");
        w.WriteLine("sysctl -w net.ipv4.conf.all.arp_ignore=1");
        w.WriteLine("sysctl -w net.ipv4.conf.all.arp_announce=2");
        w.WriteLine("sysctl -w net.ipv4.conf.tunl0.arp_ignore=1");
        w.WriteLine("sysctl -w net.ipv4.conf.tunl0.arp_announce=2");
        w.WriteLine("# Decapsulated packets arrive on tunl0 but their source (the client) routes via the uplink:");
        w.WriteLine("# reverse-path filtering must be loose or off there (the effective value is max(all, tunl0)).");
        w.WriteLine("sysctl -w net.ipv4.conf.tunl0.rp_filter=0");
        w.WriteLine("sysctl -w net.ipv4.conf.all.rp_filter=0");
        w.WriteLine("# tunl0 decapsulates IPIP from ANY source, which makes the host a spoofing relay");
        w.WriteLine("# (CERT VU#636397, CVE-2020-10136). Accept protocol 4 only from the directors:");
        w.WriteLine("nft add table inet tunlb");
        w.WriteLine("nft 'add chain inet tunlb input { type filter hook input priority 0; policy accept; }'");
        var dirs = string.Join(", ", cfg.Directors.Where(d => d.IsV4));
        if (dirs.Length > 0)
            w.WriteLine($"nft add rule inet tunlb input ip protocol 4 ip saddr != {{ {dirs} }} counter drop");
        else
            w.WriteLine("nft add rule inet tunlb input ip protocol 4 counter drop");
        if (cfg.Vips.Any(v => !v.IsV4) || cfg.Directors.Any(d => !d.IsV4))
        {
            w.WriteLine("# IPv6 VIPs or directors: the kernel equivalents are sit (6in4) and ip6tnl (4in6 / 6in6) devices,");
            w.WriteLine("# which this script does not set up; the TunLB agent handles them in userspace.");
        }
        if (cfg.Gue)
            w.WriteLine($"# GUE: the kernel equivalent is a fou/gue receive port: ip fou add port {cfg.GuePort} gue (plus ipip/sit devices with encap gue).");
        if (MssClampRules.Render(cfg.Vips, cfg.MssClamp) is { } mss)
        {
            w.WriteLine("# TCP MSS clamp for the VIPs' SYN-ACKs:");
            w.WriteLine("nft -f - <<'NFT'");
            w.Write(mss);
            w.WriteLine("NFT");
        }
        return w.ToString();
    }
}
