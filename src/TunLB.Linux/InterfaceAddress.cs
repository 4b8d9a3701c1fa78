using System.Text.Json;
using TunLB.Core.Flows;

namespace TunLB.Linux;

/// <summary>
/// One IPv4/IPv6 address of an interface. <see cref="Peer"/> is set for a point-to-point address (`ip addr add A peer P/len`),
/// whose prefix describes the peer's side, not a subnet shared with this interface.
/// </summary>
public readonly record struct InterfaceAddress(string Device, IpAddress Address, int PrefixLength, IpAddress? Peer = null)
{
    /// <summary>Reads `ip -j addr show` output; entries without an address (iproute2 prints `{}` for some) are skipped.</summary>
    public static List<InterfaceAddress> ParseIpJson(string json)
    {
        var list = new List<InterfaceAddress>();
        using var doc = JsonDocument.Parse(json);
        foreach (var link in doc.RootElement.EnumerateArray())
        {
            if (!link.TryGetProperty("ifname", out var name) || name.GetString() is not { } dev) continue;
            if (!link.TryGetProperty("addr_info", out var infos)) continue;
            foreach (var a in infos.EnumerateArray())
            {
                if (!TryAddress(a, "local", out var addr)) continue;
                if (!a.TryGetProperty("prefixlen", out var len) || !len.TryGetInt32(out int prefix)) continue;
                IpAddress? peer = TryAddress(a, "address", out var pa) && pa != addr ? pa : null;
                list.Add(new InterfaceAddress(dev, addr, prefix, peer));
            }
        }
        return list;
    }

    private static bool TryAddress(JsonElement e, string property, out IpAddress address)
    {
        address = default;
        if (!e.TryGetProperty(property, out var v) || v.ValueKind != JsonValueKind.String) return false;
        if (!System.Net.IPAddress.TryParse(v.GetString(), out var ip)) return false;
        address = IpAddress.FromIPAddress(ip);
        return true;
    }
}
