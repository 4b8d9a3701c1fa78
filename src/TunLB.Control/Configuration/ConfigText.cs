using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using TunLB.Core.Flows;

namespace TunLB.Control.Configuration;

/// <summary>
/// Parsing and checking of the text forms used in config values (pure functions). Public so that the
/// management API applies exactly the rules the config loader does.
/// </summary>
public static partial class ConfigText
{
    /// <summary>
    /// Strict IP literal: IPv4 only as four decimal parts without leading zeros (no "10.1",
    /// no octal "010.0.0.1", which inet_aton and IPAddress.Parse would accept with surprising
    /// meanings); IPv6 in any RFC 4291 form, without brackets or a zone id.
    /// </summary>
    public static bool TryParseIp(string s, out IpAddress address, out string error)
    {
        address = default;
        if (s.Contains(':'))
        {
            if (s.StartsWith('[') || s.Contains('%') || !Ipv6CharsRegex().IsMatch(s)
                || !IPAddress.TryParse(s, out var ip6) || ip6.AddressFamily != AddressFamily.InterNetworkV6)
            {
                error = $"\"{s}\" is not a valid IPv6 address";
                return false;
            }
            address = IpAddress.FromIPAddress(ip6);
            error = "";
            return true;
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
        {
            error = $"\"{s}\" is not a valid IP address (IPv4 is written as four decimal numbers 0..255, like 192.0.2.1)";
            return false;
        }
        address = IpAddress.FromV4(v);
        error = "";
        return true;
    }

    /// <summary>An address usable as a VIP, real server or director: not unspecified, multicast or broadcast.</summary>
    public static bool TryParseHostAddress(string s, out IpAddress address, out string error)
    {
        if (!TryParseIp(s, out address, out error)) return false;
        string? why = null;
        if (address.IsV4)
        {
            uint v = address.V4;
            if (v == 0) why = "the unspecified address";
            else if (v == uint.MaxValue) why = "the broadcast address";
            else if ((v >> 28) == 0xE) why = "a multicast address";
        }
        else
        {
            if (address.Hi == 0 && address.Lo == 0) why = "the unspecified address";
            else if ((address.Hi >> 56) == 0xFF) why = "a multicast address";
        }
        if (why is null) return true;
        error = $"{s} is {why}, not a host address";
        return false;
    }

    public static string Family(IpAddress a) => a.IsV4 ? "IPv4" : "IPv6";

    /// <summary>
    /// "host:port" or "[v6]:port". The host is an IP literal or a DNS host name (not resolved
    /// here); the port is 1..65535.
    /// </summary>
    public static bool TryParseHostPort(string s, out string host, out int port, out string error)
    {
        host = ""; port = 0;
        string hostPart, portPart;
        if (s.StartsWith('['))
        {
            int close = s.IndexOf(']');
            if (close < 0 || close + 1 >= s.Length || s[close + 1] != ':')
            {
                error = $"\"{s}\" is not host:port; an IPv6 address is written [addr]:port, like [::1]:9400";
                return false;
            }
            hostPart = s[1..close];
            portPart = s[(close + 2)..];
            if (!hostPart.Contains(':') || !TryParseIp(hostPart, out _, out _))
            {
                error = $"\"{hostPart}\" in \"{s}\" is not a valid IPv6 address";
                return false;
            }
        }
        else
        {
            int colon = s.LastIndexOf(':');
            if (colon < 0)
            {
                error = $"\"{s}\" is not host:port (the port is missing), like 127.0.0.1:9400";
                return false;
            }
            hostPart = s[..colon];
            portPart = s[(colon + 1)..];
            if (hostPart.Contains(':'))
            {
                error = $"\"{s}\": an IPv6 address must be in brackets, like [::1]:9400";
                return false;
            }
            if (hostPart.Length == 0)
            {
                error = $"\"{s}\" is not host:port (the host is missing), like 127.0.0.1:9400";
                return false;
            }
            bool looksNumeric = hostPart.All(c => char.IsAsciiDigit(c) || c == '.');
            if (looksNumeric ? !TryParseIp(hostPart, out _, out _) : !HostNameRegex().IsMatch(hostPart))
            {
                error = $"\"{hostPart}\" in \"{s}\" is neither an IP address nor a host name";
                return false;
            }
        }
        if (portPart.Length is < 1 or > 5 || !portPart.All(char.IsAsciiDigit)
            || int.Parse(portPart, CultureInfo.InvariantCulture) is < 1 or > 65535)
        {
            error = $"\"{portPart}\" in \"{s}\" is not a port number 1..65535";
            return false;
        }
        host = hostPart;
        port = int.Parse(portPart, CultureInfo.InvariantCulture);
        error = "";
        return true;
    }

    /// <summary>Linux network device name rules (dev_valid_name), restricted to a safe character set.</summary>
    public static bool TryCheckInterfaceName(string s, out string error)
    {
        if (s.Length is < 1 or > 15)
            error = $"\"{s}\" is {s.Length} characters; an interface name is 1..15 characters";
        else if (!InterfaceNameRegex().IsMatch(s))
            error = $"\"{s}\" may only contain letters, digits, '_', '.' and '-'";
        else if (s is "." or "..")
            error = $"\"{s}\" is not a valid interface name";
        else
        {
            error = "";
            return true;
        }
        return false;
    }

    public static int PrefixLength(IpAddress mask) => IpAddress.PrefixLengthOfMask(mask);

    public static bool IsPrime(long n)
    {
        if (n < 2) return false;
        if (n % 2 == 0) return n == 2;
        for (long d = 3; d * d <= n; d += 2)
            if (n % d == 0) return false;
        return true;
    }

    /// <summary>The closest candidate within edit distance 2 (optimal string alignment), or null.</summary>
    public static string? Suggest(string name, IEnumerable<string> candidates)
    {
        string? best = null;
        int bestDistance = 3;
        foreach (var c in candidates)
        {
            int d = EditDistance(name, c);
            if (d < bestDistance) { best = c; bestDistance = d; }
        }
        return best;
    }

    /// <summary>Levenshtein distance with adjacent transpositions counting as one edit.</summary>
    public static int EditDistance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (int j = 0; j <= b.Length; j++) d[0, j] = j;
        for (int i = 1; i <= a.Length; i++)
        for (int j = 1; j <= b.Length; j++)
        {
            int cost = a[i - 1] == b[j - 1] ? 0 : 1;
            int v = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                v = Math.Min(v, d[i - 2, j - 2] + 1);
            d[i, j] = v;
        }
        return d[a.Length, b.Length];
    }

    [GeneratedRegex("^[0-9A-Fa-f:.]+$")]
    private static partial Regex Ipv6CharsRegex();

    [GeneratedRegex("^[A-Za-z0-9_.-]+$")]
    private static partial Regex InterfaceNameRegex();

    [GeneratedRegex(@"^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$")]
    private static partial Regex HostNameRegex();
}
