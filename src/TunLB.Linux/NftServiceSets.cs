using System.Text;
using TunLB.Core.Model;

namespace TunLB.Linux;

/// <summary>
/// nftables sets and matches for <see cref="ServiceEndpoints"/>, shared by the afpacket drop and the local-VIP steering
/// so both take exactly the same packets: a service's VIP + protocol + destination port; every port of a port-0
/// service; every fragment (IPv4 and IPv6) to a VIP + protocol that has a service (a non-first fragment carries no
/// port); and ICMP errors to a VIP whose quoted packet left a service port (assuming a 20-byte quoted IPv4 header),
/// which the engine relays to the real server; and echo requests to a VIP, which the engine answers or drops
/// (`answer_ping`), so a VIP gets one answer whether the host holds it or not. Everything else to a VIP stays with the kernel.
/// </summary>
public static class NftServiceSets
{
    /// <summary>The set declarations for a table body.</summary>
    public const string Declarations =
        "  set svc4 { type ipv4_addr . inet_proto . inet_service; }\n" +
        "  set svc6 { type ipv6_addr . inet_proto . inet_service; }\n" +
        "  set any4 { type ipv4_addr . inet_proto; }\n" +
        "  set any6 { type ipv6_addr . inet_proto; }\n" +
        "  set err4 { typeof ip daddr . @th,136,8 . @th,224,16; }\n" +
        "  set err6 { typeof ip6 daddr . @th,112,8 . @th,384,16; }\n" +
        "  set fragvips4 { type ipv4_addr . inet_proto; }\n" +
        "  set fragvips6 { type ipv6_addr . inet_proto; }\n" +
        "  set vips4 { type ipv4_addr; }\n" +
        "  set vips6 { type ipv6_addr; }\n";

    /// <summary>One rule per match, each followed by <paramref name="verdict"/> (e.g. "drop", "meta mark set ...").</summary>
    public static string Rules(string verdict, string indent = "    ")
    {
        var sb = new StringBuilder();
        foreach (var m in Matches) sb.Append(indent).Append(m).Append(' ').Append(verdict).Append('\n');
        return sb.ToString();
    }

    private static readonly string[] Matches =
    [
        "ip daddr . meta l4proto . th dport @svc4",
        "ip daddr . meta l4proto @any4",
        "ip frag-off & 0x3fff != 0 ip daddr . ip protocol @fragvips4",
        "icmp type echo-request ip daddr @vips4",
        "icmp type { destination-unreachable, time-exceeded, parameter-problem } ip daddr . @th,136,8 . @th,224,16 @err4",
        "ip6 daddr . meta l4proto . th dport @svc6",
        "ip6 daddr . meta l4proto @any6",
        "exthdr frag exists ip6 daddr . meta l4proto @fragvips6",
        "icmpv6 type echo-request ip6 daddr @vips6",
        "icmpv6 type { destination-unreachable, packet-too-big, time-exceeded, parameter-problem } ip6 daddr . @th,112,8 . @th,384,16 @err6",
    ];

    private static readonly string[] SetNames = ["svc4", "svc6", "any4", "any6", "err4", "err6", "fragvips4", "fragvips6", "vips4", "vips6"];

    /// <summary>A script that fills the sets of <paramref name="table"/> (inet) with <paramref name="endpoints"/>, flushing them first when asked.</summary>
    public static string Elements(string table, ServiceEndpoints endpoints, bool flush)
    {
        var sb = new StringBuilder();
        if (flush)
            foreach (var s in SetNames) sb.Append($"flush set inet {table} {s}\n");
        var sets = SetNames.ToDictionary(n => n, _ => new List<string>());
        foreach (var k in endpoints.Keys)
        {
            string f = k.Vip.IsV4 ? "4" : "6";
            if (k.Port == 0) sets["any" + f].Add($"{k.Vip} . {k.Protocol}");
            else
            {
                sets["svc" + f].Add($"{k.Vip} . {k.Protocol} . {k.Port}");
                sets["err" + f].Add($"{k.Vip} . {k.Protocol} . {k.Port}");
            }
            sets["fragvips" + f].Add($"{k.Vip} . {k.Protocol}");
            sets["vips" + f].Add(k.Vip.ToString());
        }
        foreach (var (name, elements) in sets)
            if (elements.Count > 0) sb.Append($"add element inet {table} {name} {{ {string.Join(", ", elements.Distinct())} }}\n");
        return sb.ToString();
    }
}
