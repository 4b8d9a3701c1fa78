using TunLB.Control.Configuration;
using TunLB.Core.Flows;
using TunLB.Core.Model;
using TunLB.Director.Management;
using TunLB.Linux;
using TunLB.Linux.Xdp;

namespace TunLB.Director;

/// <summary>
/// What feeds the workers (<c>[director] io</c>), started: the TUN queues (tun), an <see cref="AfPacketCapture"/>
/// (afpacket) or an <see cref="XdpCapture"/> (xdp). With <c>io = "auto"</c> the first of xdp, afpacket, tun that starts
/// on this host; <see cref="Choice"/> says which and why the better ones were skipped.
/// </summary>
internal sealed class DirectorCapture : IDisposable
{
    private AfPacketCapture? _afpacket;
    private XdpCapture? _xdp;

    private DirectorCapture(IoChoice choice, IPacketReceiver[] ports, string describe)
    {
        Choice = choice; Ports = ports; Describe = describe;
    }

    public IoChoice Choice { get; }
    /// <summary>One receiver per worker.</summary>
    public IPacketReceiver[] Ports { get; }
    /// <summary>The startup message's io part.</summary>
    public string Describe { get; }

    /// <param name="tunQueues">Opens the TUN queues still missing and returns one per worker (queue 0 exists already).</param>
    public static DirectorCapture Start(DirectorSettings d, string tunDevice, TunDevice tun0, Func<TunDevice[]> tunQueues,
        ServiceEndpoints services, int workers, HostNetwork net, Action<string> logError)
    {
        switch (d.Io)
        {
            case IoBackend.Tun: return StartTun(d.Io, "", tunQueues());
            case IoBackend.AfPacket: return StartAfPacket(d, d.Io, "", tunDevice, tun0, services, workers, logError);
            case IoBackend.Xdp: return StartXdp(d, d.Io, tunDevice, tunQueues, services, workers, net);
        }
        var skipped = new List<string>();
        try { return StartXdp(d, d.Io, tunDevice, tunQueues, services, workers, net); }
        catch (Exception e) { skipped.Add($"xdp: {e.Message}"); }
        try { return StartAfPacket(d, d.Io, string.Join("; ", skipped), tunDevice, tun0, services, workers, logError); }
        catch (Exception e) { skipped.Add($"afpacket: {e.Message}"); }
        return StartTun(d.Io, string.Join("; ", skipped), tunQueues());
    }

    private static DirectorCapture StartTun(IoBackend requested, string skipped, TunDevice[] queues) =>
        new(new IoChoice(IoBackend.Tun, requested, skipped), [.. queues],
            Line(requested, "tun", skipped, "the kernel forwards VIP traffic into the TUN device"));

    private static DirectorCapture StartAfPacket(DirectorSettings d, IoBackend requested, string skipped, string tunDevice, TunDevice tun0,
        ServiceEndpoints services, int workers, Action<string> logError)
    {
        var c = AfPacketCapture.Start(tunDevice, tun0, d.CaptureInterfaces, services, logError, workers);
        return new(new IoChoice(IoBackend.AfPacket, requested, skipped), [.. c.Ports], Line(requested, "afpacket", skipped, c.Describe()))
        { _afpacket = c };
    }

    private static DirectorCapture StartXdp(DirectorSettings d, IoBackend requested, string tunDevice, Func<TunDevice[]> tunQueues,
        ServiceEndpoints services, int workers, HostNetwork net)
    {
        var interfaces = d.CaptureInterfaces.Count > 0 ? d.CaptureInterfaces : XdpInterfaces.Routed(net, tunDevice);
        var c = XdpCapture.Start(interfaces, ToXdp(services), workers, tunQueues());
        string where = string.Join(", ", c.Interfaces.Select(i => $"{c.Mode.ToString().ToLowerInvariant()} on {i}"));
        return new(new IoChoice(IoBackend.Xdp, requested), [.. c.Ports], Line(requested, "xdp", "", c.Describe(), where)) { _xdp = c };
    }

    /// <summary>"io auto: xdp (native on eth0); io xdp: ..." or "io auto: afpacket (xdp: ERROR); io afpacket: ...".</summary>
    private static string Line(IoBackend requested, string chosen, string skipped, string describe, string? where = null)
    {
        string text = describe.StartsWith("io ", StringComparison.Ordinal) ? describe : $"io {chosen}: {describe}";
        if (requested != IoBackend.Auto) return text;
        string why = skipped.Length > 0 ? skipped : where ?? "";
        return $"io auto: {chosen}{(why.Length > 0 ? $" ({why})" : "")}; {text}";
    }

    private static XdpService[] ToXdp(ServiceEndpoints services) =>
        services.Keys.Select(k => new XdpService(k.Vip, k.Protocol, k.Port)).ToArray();

    /// <summary>The afpacket capture, if that is what runs: <see cref="LocalVips"/> keeps its filter and nft sets in step.</summary>
    public AfPacketCapture? AfPacket => _afpacket;

    /// <summary>The service set changed (xdp: the program's service maps). Control plane; throws on failure.</summary>
    public void UpdateServices(ServiceEndpoints services) => _xdp?.UpdateServices(ToXdp(services));

    /// <summary>The capture's counters (null for tun: the workers read the TUN queues themselves).</summary>
    public CaptureCounters? Counters() => _afpacket?.Counters() ?? _xdp?.Counters();

    /// <summary>Counters for the exit summary ("" for tun).</summary>
    public string Summary() => _afpacket?.Summary() ?? _xdp?.Summary() ?? "";

    public void Dispose()
    {
        _afpacket?.Dispose();
        _xdp?.Dispose();
    }
}
