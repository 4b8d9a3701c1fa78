using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using TunLB.Control.Api;

namespace TunLB.Cli.Adm;

/// <summary>
/// The listings of ipvsadm 1.31, from API DTOs. Pure: DTOs in, text out ('\n' line ends).
/// Each layout below follows the printf formats of ipvsadm.c (print_title, print_service_entry,
/// print_largenum, print_conn, list_all, list_timeout); the comments restate those formats.
/// Addresses are always printed numerically (as with -n).
/// </summary>
public static class AdmFormatter
{
    /// <summary>The IPVS version ipvsadm reports for current kernels.</summary>
    public const string IpvsVersion = "1.2.1";

    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>
    /// <c>-L</c> (whole table): the version line "IP Virtual Server version 1.2.1 (size=N)" (N = the
    /// director's connection table size), then the title and every service.
    /// </summary>
    public static string ListAll(int tableSize, IReadOnlyList<ServiceDto> services, AdmListFormat format)
    {
        var sb = new StringBuilder();
        sb.Append("IP Virtual Server version ").Append(IpvsVersion).Append(" (size=")
          .Append(tableSize.ToString(Inv)).Append(")\n");
        sb.Append(Title(format));
        foreach (var s in Sorted(services, format)) AppendService(sb, s, format);
        return sb.ToString();
    }

    /// <summary><c>-L -t/-u service</c>: the title and that one service (no version line).</summary>
    public static string ListOne(ServiceDto service, AdmListFormat format)
    {
        var sb = new StringBuilder(Title(format));
        AppendService(sb, service, format);
        return sb.ToString();
    }

    /// <summary><c>-L --timeout</c>: "Timeout (tcp tcpfin udp): %d %d %d".</summary>
    public static string Timeouts(TimeoutsDto t) =>
        string.Create(Inv, $"Timeout (tcp tcpfin udp): {t.Tcp} {t.TcpFin} {t.Udp}\n");

    /// <summary>
    /// <c>-L -c</c>: "IPVS connection entries", then the header "pro expire %-11s %-18s %-18s %s" and
    /// one "%-3s %-6s %-11s %-18s %-18s %s" row per entry (expire as %02d:%02d minutes:seconds).
    /// With --persistent-conn the header gains "%-16s %s" for "pe name"/"pe_data"; TunLB has no
    /// persistence engines, so rows keep the short form, as ipvsadm prints them for entries without one.
    /// </summary>
    public static string Connections(IReadOnlyList<ConnectionDto> conns, AdmListFormat format)
    {
        var sb = new StringBuilder("IPVS connection entries\n");
        if ((format & AdmListFormat.PersistentConn) != 0)
            sb.Append(string.Create(Inv, $"pro expire {"state",-11} {"source",-18} {"virtual",-18} {"destination",-18} {"pe name",-16} pe_data\n"));
        else
            sb.Append(string.Create(Inv, $"pro expire {"state",-11} {"source",-18} {"virtual",-18} destination\n"));
        foreach (var c in conns)
        {
            long expires = double.IsFinite(c.ExpiresInSeconds) && c.ExpiresInSeconds > 0 ? (long)Math.Floor(c.ExpiresInSeconds) : 0;
            var expire = string.Create(Inv, $"{expires / 60:00}:{expires % 60:00}");
            var proto = c.Protocol.ToUpperInvariant();
            var state = c.State.Length > 0 ? c.State : "NONE";
            sb.Append(string.Create(Inv,
                $"{proto,-3} {expire,-6} {state,-11} {AddrPort(c.Client, c.ClientPort),-18} {AddrPort(c.Vip, c.VipPort),-18} {AddrPort(c.Real, c.RealPort)}\n"));
        }
        return sb.ToString();
    }

    /// <summary>
    /// print_title. Stats/rate: "%-33s %8s %8s %8s %8s %8s" + "  -> RemoteAddress:Port";
    /// thresholds: "%-33s %-10s %-10s %-10s %-10s"; persistent-conn: "%-33s %-9s %-11s %-10s %-10s";
    /// otherwise the two fixed lines (the tun-info one with a TunnelInfo column).
    /// </summary>
    public static string Title(AdmListFormat format)
    {
        const string prot = "Prot LocalAddress:Port";
        const string remote = "  -> RemoteAddress:Port\n";
        if ((format & AdmListFormat.Stats) != 0)
            return string.Create(Inv, $"{prot,-33} {"Conns",8} {"InPkts",8} {"OutPkts",8} {"InBytes",8} {"OutBytes",8}\n") + remote;
        if ((format & AdmListFormat.Rate) != 0)
            return string.Create(Inv, $"{prot,-33} {"CPS",8} {"InPPS",8} {"OutPPS",8} {"InBPS",8} {"OutBPS",8}\n") + remote;
        if ((format & AdmListFormat.Thresholds) != 0)
            return string.Create(Inv, $"{prot,-33} {"Uthreshold",-10} {"Lthreshold",-10} {"ActiveConn",-10} {"InActConn",-10}\n") + remote;
        if ((format & AdmListFormat.PersistentConn) != 0)
            return string.Create(Inv, $"{prot,-33} {"Weight",-9} {"PersistConn",-11} {"ActiveConn",-10} {"InActConn",-10}\n") + remote;
        if ((format & AdmListFormat.TunInfo) != 0)
            return "Prot LocalAddress:Port Scheduler Flags\n"
                 + "  -> RemoteAddress:Port           Forward TunnelInfo    Weight ActiveConn InActConn\n";
        return "Prot LocalAddress:Port Scheduler Flags\n"
             + "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n";
    }

    private static void AppendService(StringBuilder sb, ServiceDto s, AdmListFormat format)
    {
        bool v6 = IsV6(s.Vip);
        // Service name: "%-4s %s" (protocol, address:port), cut at 33 characters for IPv4.
        var name = string.Create(Inv, $"{s.Protocol.ToUpperInvariant(),-4} {AddrPort(s.Vip, s.Port)}");
        if (!v6 && name.Length > 33) name = name[..33];

        if ((format & AdmListFormat.Stats) != 0)
        {
            // "%-33s" then the five counters through print_largenum.
            sb.Append(string.Create(Inv, $"{name,-33}"));
            LargeNums(sb, format, s.Stats.Conns, s.Stats.InPkts, s.Stats.OutPkts, s.Stats.InBytes, s.Stats.OutBytes);
        }
        else if ((format & AdmListFormat.Rate) != 0)
        {
            sb.Append(string.Create(Inv, $"{name,-33}"));
            LargeNums(sb, format, Rate(s.Rates.Cps), Rate(s.Rates.InPps), Rate(s.Rates.OutPps), Rate(s.Rates.InBps), Rate(s.Rates.OutBps));
        }
        else
        {
            // "%s %s" name and scheduler, then " (flags)", " persistent %u", " mask %s".
            sb.Append(name).Append(' ').Append(s.Scheduler);
            var flags = SchedFlags(s.Scheduler, s.Flags);
            if (flags.Length > 0) sb.Append(" (").Append(flags).Append(')');
            if (s.Persistence > 0)
            {
                sb.Append(" persistent ").Append(s.Persistence.ToString(Inv));
                if (MaskText(s.PersistenceNetmask, v6) is { } mask) sb.Append(" mask ").Append(mask);
            }
        }
        sb.Append('\n');

        foreach (var r in Sorted(s.Reals, format))
        {
            var dname = AddrPort(r.Address, r.Port);
            if (!IsV6(r.Address) && dname.Length > 28) dname = dname[..28];
            if ((format & AdmListFormat.Stats) != 0)
            {
                // "  -> %-28s" then print_largenum x5.
                sb.Append(string.Create(Inv, $"  -> {dname,-28}"));
                LargeNums(sb, format, r.Stats.Conns, r.Stats.InPkts, r.Stats.OutPkts, r.Stats.InBytes, r.Stats.OutBytes);
                sb.Append('\n');
            }
            else if ((format & AdmListFormat.Rate) != 0)
            {
                // "  -> %-28s %8llu %8llu %8llu" (cps, inpps, outpps), then print_largenum for the byte rates.
                sb.Append(string.Create(Inv, $"  -> {dname,-28} {Rate(r.Rates.Cps),8} {Rate(r.Rates.InPps),8} {Rate(r.Rates.OutPps),8}"));
                LargeNums(sb, format, Rate(r.Rates.InBps), Rate(r.Rates.OutBps));
                sb.Append('\n');
            }
            else if ((format & AdmListFormat.Thresholds) != 0)
            {
                // "  -> %-28s %-10u %-10u %-10u %-10u"
                sb.Append(string.Create(Inv,
                    $"  -> {dname,-28} {U(r.UpperThreshold),-10} {U(r.LowerThreshold),-10} {U(r.ActiveConns),-10} {U(r.InactiveConns),-10}\n"));
            }
            else if ((format & AdmListFormat.PersistentConn) != 0)
            {
                // "  -> %-28s %-9u %-11u %-10u %-10u"
                sb.Append(string.Create(Inv,
                    $"  -> {dname,-28} {U(r.Weight),-9} {U(r.PersistConns),-11} {U(r.ActiveConns),-10} {U(r.InactiveConns),-10}\n"));
            }
            else if ((format & AdmListFormat.TunInfo) != 0)
            {
                // "  -> %-28s %-7s %-13s %-6d %-10u %-10u" (tunnel info "n/a" when there is none)
                sb.Append(string.Create(Inv,
                    $"  -> {dname,-28} {ForwardName(r.Forward),-7} {TunInfo(r) ?? "n/a",-13} {r.Weight,-6} {U(r.ActiveConns),-10} {U(r.InactiveConns),-10}\n"));
            }
            else
            {
                // "  -> %-28s %-7s %-6d %-10u %-10u"
                sb.Append(string.Create(Inv,
                    $"  -> {dname,-28} {ForwardName(r.Forward),-7} {r.Weight,-6} {U(r.ActiveConns),-10} {U(r.InactiveConns),-10}\n"));
            }
        }
    }

    /// <summary>
    /// print_largenum: with --exact, "%*llu" in a field one wider than the number (at least 9);
    /// otherwise "%9llu" below 10^8, then "%8lluK" (/10^3) below 10^9, "%8lluM" (/10^6) below 10^11,
    /// "%8lluG" (/10^9) below 10^14, else "%8lluT" (/10^12).
    /// </summary>
    public static string LargeNum(ulong i, bool exact)
    {
        if (exact)
        {
            var digits = i.ToString(Inv);
            return digits.PadLeft(digits.Length <= 8 ? 9 : digits.Length + 1);
        }
        if (i < 100_000_000UL) return i.ToString(Inv).PadLeft(9);
        if (i < 1_000_000_000UL) return (i / 1_000UL).ToString(Inv).PadLeft(8) + "K";
        if (i < 100_000_000_000UL) return (i / 1_000_000UL).ToString(Inv).PadLeft(8) + "M";
        if (i < 100_000_000_000_000UL) return (i / 1_000_000_000UL).ToString(Inv).PadLeft(8) + "G";
        return (i / 1_000_000_000_000UL).ToString(Inv).PadLeft(8) + "T";
    }

    private static void LargeNums(StringBuilder sb, AdmListFormat format, params ulong[] values)
    {
        bool exact = (format & AdmListFormat.Exact) != 0;
        foreach (var v in values) sb.Append(LargeNum(v, exact));
    }

    private static void LargeNums(StringBuilder sb, AdmListFormat format, long a, long b, long c, long d, long e) =>
        LargeNums(sb, format, U(a), U(b), U(c), U(d), U(e));

    private static ulong U(long v) => v < 0 ? 0 : (ulong)v;
    private static ulong U(int v) => v < 0 ? 0 : (ulong)v;

    /// <summary>Rates arrive as doubles; IPVS reports whole numbers per second (rounded).</summary>
    internal static ulong Rate(double v) =>
        double.IsFinite(v) && v > 0 ? (ulong)Math.Round(v, MidpointRounding.AwayFromZero) : 0;

    /// <summary>"Tunnel" for the API's "tunnel" (ipvsadm's fwd_name).</summary>
    public static string ForwardName(string forward) => forward.ToLowerInvariant() switch
    {
        "tunnel" or "ipip" or "tun" => "Tunnel",
        "route" or "droute" or "dr" or "gatewaying" => "Route",
        "masq" or "nat" or "masquerading" => "Masq",
        "local" => "Local",
        _ => forward,
    };

    /// <summary>ipvsadm's fwd_switch: the forwarding option in -S output.</summary>
    public static string ForwardSwitch(string forward) => ForwardName(forward) switch
    {
        "Masq" => "-m",
        "Route" or "Local" => "-g",
        _ => "-i",
    };

    /// <summary>ipvsadm's checksum names in TunnelInfo: -c (none), +c (checksum), r+c (remote checksum).</summary>
    public static string TunFlagsShort(string? flags) => (flags ?? "").ToLowerInvariant() switch
    {
        "csum" or "+c" => "+c",
        "remcsum" or "r+c" => "r+c",
        _ => "-c",
    };

    /// <summary>ipvsadm's option names for the checksum flags in -S output.</summary>
    public static string TunFlagsOption(string? flags) => TunFlagsShort(flags) switch
    {
        "+c" => "--tun-csum",
        "r+c" => "--tun-remcsum",
        _ => "--tun-nocsum",
    };

    /// <summary>fwd_tun_info: "ipip", "gue:PORT:FLAGS" or "gre:FLAGS" (at most 15 characters); null when not a tunnel.</summary>
    public static string? TunInfo(RealDto r)
    {
        if (ForwardName(r.Forward) != "Tunnel") return null;
        string? info = r.TunType.ToLowerInvariant() switch
        {
            "" or "ipip" => "ipip",
            "gue" => string.Create(Inv, $"gue:{r.TunPort}:{TunFlagsShort(r.TunFlags)}"),
            "gre" => $"gre:{TunFlagsShort(r.TunFlags)}",
            _ => null,
        };
        return info is { Length: > 15 } ? info[..15] : info;
    }

    /// <summary>print_sched_flags: for sh/mh "X-fallback" before "X-port"; for others flag-1..3; comma separated.</summary>
    public static string SchedFlags(string scheduler, IReadOnlyList<string>? flags)
    {
        if (flags is null || flags.Count == 0) return "";
        string[] order = scheduler switch
        {
            "sh" => ["sh-fallback", "sh-port"],
            "mh" => ["mh-fallback", "mh-port"],
            _ => ["flag-1", "flag-2", "flag-3"],
        };
        return string.Join(',', order.Where(f => flags.Contains(f, StringComparer.OrdinalIgnoreCase)));
    }

    /// <summary>The persistence mask to show, or null when it is the whole address (/32, /128).</summary>
    public static string? MaskText(string? mask, bool v6)
    {
        if (string.IsNullOrEmpty(mask)) return null;
        if (v6)
        {
            var t = mask.TrimStart('/');
            return t == "128" ? null : t;
        }
        if (int.TryParse(mask.TrimStart('/'), NumberStyles.None, Inv, out var prefix) && prefix is >= 0 and <= 32)
        {
            if (prefix == 32) return null;
            uint bits = prefix == 0 ? 0 : uint.MaxValue << (32 - prefix);
            return new IPAddress([(byte)(bits >> 24), (byte)(bits >> 16), (byte)(bits >> 8), (byte)bits]).ToString();
        }
        if (IPAddress.TryParse(mask, out var m) && m.AddressFamily == AddressFamily.InterNetwork)
            return m.ToString() == "255.255.255.255" ? null : m.ToString();
        return mask;
    }

    /// <summary>addrport_to_anyname with -n: "a.b.c.d:port" or "[v6]:port".</summary>
    public static string AddrPort(string address, int port)
    {
        var a = IPAddress.TryParse(address.Trim('[', ']'), out var ip) ? ip.ToString() : address;
        return IsV6(address) ? string.Create(Inv, $"[{a}]:{port}") : string.Create(Inv, $"{a}:{port}");
    }

    internal static bool IsV6(string address) => address.Contains(':');

    // ipvsadm sorts services by (family, protocol, address, port) and reals by (address, port) unless --nosort.
    internal static IEnumerable<ServiceDto> Sorted(IReadOnlyList<ServiceDto> services, AdmListFormat format) =>
        (format & AdmListFormat.NoSort) != 0
            ? services
            : services.OrderBy(s => IsV6(s.Vip) ? 1 : 0)
                      .ThenBy(s => ProtocolNumber(s.Protocol))
                      .ThenBy(s => AddressKey(s.Vip), StringComparer.Ordinal)
                      .ThenBy(s => s.Port);

    internal static IEnumerable<RealDto> Sorted(IReadOnlyList<RealDto> reals, AdmListFormat format) =>
        (format & AdmListFormat.NoSort) != 0
            ? reals
            : reals.OrderBy(r => IsV6(r.Address) ? 1 : 0)
                   .ThenBy(r => AddressKey(r.Address), StringComparer.Ordinal)
                   .ThenBy(r => r.Port);

    private static int ProtocolNumber(string protocol) => protocol.ToLowerInvariant() switch
    {
        "tcp" => 6,
        "udp" => 17,
        "sctp" => 132,
        _ => 255,
    };

    private static string AddressKey(string address) =>
        IPAddress.TryParse(address.Trim('[', ']'), out var ip) ? Convert.ToHexString(ip.GetAddressBytes()) : address;
}
