using System.Text;
using TunLB.Core.Flows;

namespace TunLB.Control.Configuration;

/// <summary>
/// The nftables ruleset (nft 1.0.6 syntax, Debian 12) the real-server agent installs for <c>mss_clamp</c>: SYN-ACKs
/// leaving with a VIP as source get their MSS option lowered, so clients never send segments that would not fit
/// the tunnel (whose path MTU is below the client's). Only lowered, never raised.
/// </summary>
public static class MssClampRules
{
    public const string Table = "tunlb_mss";

    /// <summary>
    /// The ruleset for <c>nft -f -</c>, or null when clamping is off. A fixed <paramref name="mss"/> applies to
    /// IPv4 VIPs as given and to IPv6 VIPs 20 bytes lower (the IPv6 header is 20 bytes longer);
    /// <see cref="RealServerConfig.MssClampAuto"/> clamps to the route's MTU (<c>rt mtu</c>).
    /// </summary>
    public static string? Render(IEnumerable<IpAddress> vips, int mss)
    {
        if (mss == 0) return null;
        var v4 = vips.Where(v => v.IsV4).Select(v => v.ToString()).ToList();
        var v6 = vips.Where(v => !v.IsV4).Select(v => v.ToString()).ToList();
        var sb = new StringBuilder();
        sb.Append("table inet ").Append(Table).Append(" {\n");
        sb.Append("\tchain out {\n");
        sb.Append("\t\ttype filter hook output priority mangle; policy accept;\n");
        void Rule(string family, List<string> addrs, int value)
        {
            if (addrs.Count == 0) return;
            sb.Append("\t\t").Append(family).Append(" saddr { ").Append(string.Join(", ", addrs)).Append(" } tcp flags & (syn | ack) == (syn | ack) ");
            if (value == RealServerConfig.MssClampAuto) sb.Append("tcp option maxseg size set rt mtu\n");
            else sb.Append("tcp option maxseg size > ").Append(value).Append(" tcp option maxseg size set ").Append(value).Append('\n');
        }
        Rule("ip", v4, mss);
        Rule("ip6", v6, mss == RealServerConfig.MssClampAuto ? mss : mss - 20);
        sb.Append("\t}\n}\n");
        return sb.ToString();
    }

    /// <summary>The command that removes the table again.</summary>
    public static string RemoveCommand => $"delete table inet {Table}";
}
