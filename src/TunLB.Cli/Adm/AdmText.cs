using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace TunLB.Cli.Adm;

/// <summary>ipvsadm's parsing of numbers, addresses and ports (strtol, parse_service).</summary>
internal static class AdmText
{
    /// <summary>strtol-like: whole string a decimal number within [min, max], else null.</summary>
    public static int? Number(string text, int min, int max)
    {
        if (text.Length == 0) return null;
        if (!long.TryParse(text, NumberStyles.AllowLeadingSign | NumberStyles.AllowLeadingWhite, CultureInfo.InvariantCulture, out var n))
            return null;
        return n >= min && n <= max ? (int)n : null;
    }

    public static IPAddress? ParseIPv4(string text) =>
        IPAddress.TryParse(text, out var a) && a.AddressFamily == AddressFamily.InterNetwork && !text.Contains(':') ? a : null;

    /// <summary>
    /// ipvsadm's parse_service: <c>host[:port]</c>, <c>[v6]:port</c> or a bare IPv6 literal.
    /// Returns null when it isn't one. Port null = not given.
    /// </summary>
    public static (IPAddress Address, int? Port)? ParseAddressPort(
        string text, string protocol, Func<string, IPAddress?>? resolveHost, Func<string, string, int?>? resolvePort)
    {
        if (text.Length == 0 || text.All(char.IsAsciiDigit)) return null;
        string host;
        string? portText = null;
        if (text[0] == '[')
        {
            int close = text.IndexOf(']');
            if (close < 0 || close + 1 >= text.Length || text[close + 1] != ':') return null;
            host = text[1..close];
            portText = text[(close + 2)..];
            if (!IPAddress.TryParse(host, out var v6) || v6.AddressFamily != AddressFamily.InterNetworkV6) return null;
            var p6 = ParsePort(portText, protocol, resolvePort);
            return p6 is null ? null : (v6, p6);
        }
        if (text.Contains(':') && IPAddress.TryParse(text, out var bare) && bare.AddressFamily == AddressFamily.InterNetworkV6)
            return (bare, null);

        int colon = text.LastIndexOf(':');
        if (colon >= 0)
        {
            host = text[..colon];
            portText = text[(colon + 1)..];
        }
        else host = text;

        var addr = ParseIPv4(host) ?? (host.Length > 0 ? resolveHost?.Invoke(host) : null);
        if (addr is null) return null;
        if (portText is null) return (addr, null);
        var port = ParsePort(portText, protocol, resolvePort);
        return port is null ? null : (addr, port);
    }

    public static int? ParsePort(string text, string protocol, Func<string, string, int?>? resolvePort) =>
        Number(text, 0, 65535) ?? (text.Length > 0 ? resolvePort?.Invoke(text, protocol) : null);

    /// <summary>A whole decimal number (any size a long holds), else null: the range is the rule set's to check.</summary>
    public static long? Integer(string text) =>
        text.Length > 0 && long.TryParse(text, NumberStyles.AllowLeadingSign | NumberStyles.AllowLeadingWhite, CultureInfo.InvariantCulture, out var n)
            ? n : null;
}
