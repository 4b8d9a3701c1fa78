using System.Text.Json;
using TunLB.Core.Flows;

namespace TunLB.Linux;

/// <summary>Route queries the director's control plane needs per real server (not for the hot path).</summary>
public static class RoutePath
{
    /// <summary>
    /// The MTU toward <paramref name="destination"/>: the route's own <c>mtu</c> metric (or a cached path MTU) when
    /// `ip -j route get` reports one, otherwise the MTU of the route's output device. Set it as
    /// <c>Destination.Mtu</c> when the configuration says <c>mtu = 0</c>.
    /// </summary>
    public static int Mtu(HostNetwork net, IpAddress destination)
    {
        ArgumentNullException.ThrowIfNull(net);
        string json = net.RunIp("-j", "route", "get", destination.ToString());
        return ParseRouteGet(json, dev => net.GetLink(dev).Mtu);
    }

    /// <summary>The device the kernel routes <paramref name="destination"/> out of (`ip -j route get`), or null when the route names none.</summary>
    public static string? Device(HostNetwork net, IpAddress destination)
    {
        ArgumentNullException.ThrowIfNull(net);
        using var doc = JsonDocument.Parse(net.RunIp("-j", "route", "get", destination.ToString()));
        return doc.RootElement.GetArrayLength() > 0 && doc.RootElement[0].TryGetProperty("dev", out var dev) ? dev.GetString() : null;
    }

    /// <summary>Reads the MTU from `ip -j route get` output; <paramref name="linkMtu"/> resolves a device's MTU.</summary>
    public static int ParseRouteGet(string json, Func<string, int> linkMtu)
    {
        using var doc = JsonDocument.Parse(json);
        var route = doc.RootElement[0];
        if (route.TryGetProperty("metrics", out var metrics))
            foreach (var m in metrics.EnumerateArray())
                if (m.ValueKind == JsonValueKind.Object && m.TryGetProperty("mtu", out var v) && v.TryGetInt32(out int mtu) && mtu > 0)
                    return mtu;
        string dev = route.GetProperty("dev").GetString() ?? throw new HostNetworkException("route without a device: " + json);
        return linkMtu(dev);
    }
}
