using System.Globalization;
using System.Net;
using System.Net.Sockets;
using TunLB.Control.Configuration;
using TunLB.Core.Flows;
using TunLB.Core.Scheduling;

namespace TunLB.Director.Api;

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

    public static string ProtocolName(byte p) => Management.Format.ProtocolName(p);

    /// <summary>A strict IP literal, by the config loader's rule (<see cref="ConfigText.TryParseIp"/>).</summary>
    public static IpAddress Ip(string? s, string field)
    {
        if (string.IsNullOrEmpty(s)) throw ApiException.BadRequest(field, "required: an IP address");
        return ConfigText.TryParseIp(s, out var a, out var error) ? a : throw ApiException.BadRequest(field, error);
    }

    /// <summary>An address usable as a VIP or real server (<see cref="ConfigText.TryParseHostAddress"/>).</summary>
    public static IpAddress HostAddress(string? s, string field)
    {
        if (string.IsNullOrEmpty(s)) throw ApiException.BadRequest(field, "required: an IP address");
        return ConfigText.TryParseHostAddress(s, out var a, out var error) ? a : throw ApiException.BadRequest(field, error);
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
        int p = IpAddress.PrefixLengthOfMask(mask);
        if (p < 0) throw ApiException.BadRequest(field, $"netmask {s} is not contiguous (its one bits must all come first, like 255.255.255.0)");
        return p;
    }


    /// <summary>The netmask as ipvsadm shows it: dotted for IPv4, the prefix length for IPv6.</summary>
    public static string FormatNetmask(int prefix, bool v6)
    {
        if (v6) return prefix.ToString(CultureInfo.InvariantCulture);
        uint m = prefix == 0 ? 0 : uint.MaxValue << (32 - prefix);
        return IpAddress.FromV4(m).ToString();
    }

    public static string Endpoint(IpAddress a, int port) => Management.Format.Endpoint(a, port);
}
