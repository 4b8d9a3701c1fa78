using System.Globalization;
using System.Net;
using System.Net.Sockets;
using TunLB.Control.Configuration;
using TunLB.Core.Flows;
using TunLB.Core.Scheduling;

namespace TunLB.Director.Management;

/// <summary>
/// Checks API input with the same rules as the config loader (docs/configuration.md), so anything the API
/// accepts can be rendered back into a file that <see cref="ConfigLoader"/> accepts. Every failure is an
/// <see cref="ApiException"/> (400) naming the field.
/// </summary>
internal static class Validate
{
    public static byte Protocol(string? s, string field = "protocol") => s switch
    {
        "tcp" => 6,
        "udp" => 17,
        null => throw ApiException.BadRequest(field, "required: \"tcp\" or \"udp\""),
        _ => throw ApiException.BadRequest(field, $"\"{s}\" is not a protocol; expected \"tcp\" or \"udp\""),
    };

    public static string ProtocolName(byte p) => p == 17 ? "udp" : "tcp";

    /// <summary>A strict IP literal (as the config loader: IPv4 as four decimal parts without leading zeros, IPv6 without brackets or zone).</summary>
    public static IpAddress Ip(string? s, string field)
    {
        if (string.IsNullOrEmpty(s)) throw ApiException.BadRequest(field, "required: an IP address");
        if (s.Contains(':'))
        {
            if (s.StartsWith('[') || s.Contains('%') || !s.All(c => char.IsAsciiHexDigit(c) || c is ':' or '.')
                || !IPAddress.TryParse(s, out var ip6) || ip6.AddressFamily != AddressFamily.InterNetworkV6)
                throw ApiException.BadRequest(field, $"\"{s}\" is not a valid IPv6 address");
            return IpAddress.FromIPAddress(ip6);
        }
        var parts = s.Split('.');
        uint v = 0;
        bool ok = parts.Length == 4;
        for (int i = 0; ok && i < 4; i++)
        {
            var p = parts[i];
            ok = p.Length is >= 1 and <= 3 && p.All(char.IsAsciiDigit) && (p.Length == 1 || p[0] != '0')
                 && uint.Parse(p, CultureInfo.InvariantCulture) <= 255;
            if (ok) v = (v << 8) | uint.Parse(p, CultureInfo.InvariantCulture);
        }
        if (!ok)
            throw ApiException.BadRequest(field, $"\"{s}\" is not a valid IP address (IPv4 is written as four decimal numbers 0..255, like 192.0.2.1)");
        return IpAddress.FromV4(v);
    }

    /// <summary>An address usable as a VIP or real server: not unspecified, multicast or broadcast.</summary>
    public static IpAddress HostAddress(string? s, string field)
    {
        var a = Ip(s, field);
        string? why = null;
        if (a.IsV4)
        {
            if (a.V4 == 0) why = "the unspecified address";
            else if (a.V4 == uint.MaxValue) why = "the broadcast address";
            else if ((a.V4 >> 28) == 0xE) why = "a multicast address";
        }
        else if (a.Hi == 0 && a.Lo == 0) why = "the unspecified address";
        else if ((a.Hi >> 56) == 0xFF) why = "a multicast address";
        if (why is not null) throw ApiException.BadRequest(field, $"{s} is {why}, not a host address");
        return a;
    }

    public static ushort Port(int? p, string field)
    {
        if (p is null) throw ApiException.BadRequest(field, "required: a port number 0..65535");
        if (p is < 0 or > 65535) throw ApiException.BadRequest(field, $"{p} is out of range; must be 0..65535");
        return (ushort)p.Value;
    }

    /// <summary>A port from a URL path segment.</summary>
    public static ushort Port(string? s, string field)
    {
        if (s is null || s.Length is < 1 or > 5 || !s.All(char.IsAsciiDigit))
            throw ApiException.BadRequest(field, $"\"{s}\" is not a port number 0..65535");
        return Port(int.Parse(s, CultureInfo.InvariantCulture), field);
    }

    public static int Range(int value, int min, int max, string field)
    {
        if (value < min || value > max) throw ApiException.BadRequest(field, $"{value} is out of range; must be {min}..{max}");
        return value;
    }

    public static string Scheduler(string s, string field = "scheduler")
    {
        if (!SchedulerFactory.IsKnown(s))
            throw ApiException.BadRequest(field, $"unknown scheduler \"{s}\"; known: {string.Join(" ", SchedulerFactory.Names)}");
        return s;
    }

    public static string[] Flags(IReadOnlyList<string> flags, string scheduler, string field = "flags")
    {
        var list = new List<string>();
        foreach (var f in flags)
        {
            if (f is null || !SchedulerFactory.FlagNames.Contains(f))
                throw ApiException.BadRequest(field, $"unknown scheduler flag \"{f}\"; known: {string.Join(" ", SchedulerFactory.FlagNames)}");
            if (!f.StartsWith(scheduler + "-", StringComparison.Ordinal))
                throw ApiException.BadRequest(field, $"flag \"{f}\" is for scheduler {f[..f.IndexOf('-')]}, but this service uses {scheduler}");
            if (!list.Contains(f)) list.Add(f);
        }
        return list.ToArray();
    }

    public static int MhTableSize(int size, string field = "mh_table_size")
    {
        Range(size, ConfigLoader.MinMhTableSize, ConfigLoader.MaxMhTableSize, field);
        if (!SchedulerFactory.IsPrime(size))
            throw ApiException.BadRequest(field, $"{size} is not a prime number (the Maglev table size must be prime, e.g. 65537)");
        return size;
    }

    /// <summary>"255.255.255.0", an IPv6 mask, or a prefix length ("24", "/24").</summary>
    public static int Netmask(string s, bool v6, string field = "persistence_netmask")
    {
        int max = v6 ? 128 : 32;
        var t = s.StartsWith('/') ? s[1..] : s;
        if (t.Length is >= 1 and <= 3 && t.All(char.IsAsciiDigit))
        {
            int len = int.Parse(t, CultureInfo.InvariantCulture);
            if (len > max) throw ApiException.BadRequest(field, $"prefix length {len} is out of range; must be 0..{max} for an {(v6 ? "IPv6" : "IPv4")} service");
            return len;
        }
        var mask = Ip(s, field);
        if (mask.IsV4 == v6)
            throw ApiException.BadRequest(field, $"netmask {s} is {(mask.IsV4 ? "IPv4" : "IPv6")} but the service vip is {(v6 ? "IPv6" : "IPv4")}");
        int p = PrefixLength(mask);
        if (p < 0) throw ApiException.BadRequest(field, $"netmask {s} is not contiguous (its one bits must all come first, like 255.255.255.0)");
        return p;
    }

    public static int PrefixLength(IpAddress mask) => IpAddress.PrefixLengthOfMask(mask);

    /// <summary>The netmask as ipvsadm shows it: dotted for IPv4, the prefix length for IPv6.</summary>
    public static string FormatNetmask(int prefix, bool v6)
    {
        if (v6) return prefix.ToString(CultureInfo.InvariantCulture);
        uint m = prefix == 0 ? 0 : uint.MaxValue << (32 - prefix);
        return IpAddress.FromV4(m).ToString();
    }

    public static string Endpoint(IpAddress a, int port) => a.IsV4 ? $"{a}:{port}" : $"[{a}]:{port}";
}
