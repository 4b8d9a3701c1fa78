using TunLB.Control.Configuration;
using TunLB.Linux;

namespace TunLB.RealServer;

/// <summary>
/// Opens the agent's TUN device the way <c>napi</c> and <c>rps</c> ask. A plain TUN write runs the real server's whole
/// IP/TCP input (ACK processing, the data an ACK releases, socket wake-ups) inside the agent's system call; with
/// <see cref="NapiMode.Threaded"/> the write only queues the packet for the device's NAPI poll, which runs in a kernel
/// thread (napi/DEV-ID), so that work leaves the agent's thread (it still costs the host CPU). Settings go through
/// <see cref="HostNetwork"/>, so they are undone on exit and journalled.
/// </summary>
public static class DecapDevice
{
    /// <summary>The device, its name and one line saying how injected packets enter the stack.</summary>
    public static (TunDevice Tun, string Name, string Description) Open(RealServerConfig cfg, HostNetwork net)
    {
        if (cfg.Napi == NapiMode.Threaded)
        {
            TunDevice tun;
            string dev, napi;
            try
            {
                tun = TunDevice.Open(cfg.TunName, out dev, napi: true);   // IFF_NAPI needs CAP_NET_ADMIN
            }
            catch (NativeErrorException e)
            {
                return Plain(cfg, net, $"threaded NAPI not available: {e.Message}");
            }
            try
            {
                net.WriteSysctl($"/sys/class/net/{dev}/threaded", "1");
                napi = $"NAPI on {dev} threaded (the server's receive work runs in kernel thread napi/{dev}-*)";
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or HostNetworkException)
            {
                // Kernels before 5.12 have no threaded NAPI, and sysfs files are root's (CAP_NET_ADMIN alone, as in the
                // shipped unit's User=tunlb, cannot write them); IFF_NAPI alone would run the poll inside the write.
                tun.Dispose();
                return Plain(cfg, net, $"threaded NAPI not available: {e.Message}");
            }
            return (tun, dev, napi + "; " + Rps(cfg, net, dev));
        }
        return Plain(cfg, net, "napi = \"off\"");
    }

    private static (TunDevice, string, string) Plain(RealServerConfig cfg, HostNetwork net, string why)
    {
        var tun = TunDevice.Open(cfg.TunName, out var dev);
        return (tun, dev, $"NAPI on {dev} off ({why}); " + Rps(cfg, net, dev));
    }

    private static string Rps(RealServerConfig cfg, HostNetwork net, string dev) =>
        cfg.Rps == RpsMode.Auto ? RpsSteering.ApplyAuto(net, dev) : $"RPS on {dev} off";
}
