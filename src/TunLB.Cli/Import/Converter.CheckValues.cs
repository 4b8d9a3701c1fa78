using System.Globalization;

namespace TunLB.Cli.Import;

// Check values keepalived and TunLB read differently: timing ranges, hex strings, the UDP payload.
internal sealed partial class Converter
{
    private const long MaxFall = 1000;
    private const double MinInterval = 0.1, MaxInterval = 3600, MinTimeout = 0.05;
    private static readonly string[] DnsTypes = ["A", "NS", "CNAME", "SOA", "MX", "TXT", "AAAA"];

    /// <summary>
    /// interval = delay_loop and timeout = connect_timeout (misc: misc_timeout), within TunLB's ranges. keepalived starts
    /// the next check delay_loop after the previous one ended, so a timeout longer than delay_loop is fine there; TunLB
    /// starts checks every interval and wants timeout &lt;= interval, so the timeout is cut to the interval (a note: only a
    /// server slower to answer than delay_loop is judged differently).
    /// </summary>
    private (double Interval, double Timeout) Timing(KStatement c, string type, double interval, double timeout)
    {
        if (interval < MinInterval || interval > MaxInterval)
        {
            var clamped = Math.Clamp(interval, MinInterval, MaxInterval);
            Add(c, ImportSeverity.Changed, c.Keyword,
                $"delay_loop {Num(interval)} s is outside TunLB's check interval range ({Num(MinInterval)}..{Num(MaxInterval)} s); converted as {Num(clamped)} s");
            interval = clamped;
        }
        if (timeout < MinTimeout)
        {
            Add(c, ImportSeverity.Changed, c.Keyword, $"a timeout of {Num(timeout)} s is below TunLB's {Num(MinTimeout)} s; converted as {Num(MinTimeout)} s");
            timeout = MinTimeout;
        }
        if (timeout > interval)
        {
            Add(c, ImportSeverity.Note, c.Keyword,
                $"{(type == "misc" ? "misc_timeout" : "connect_timeout")} {Num(timeout)} s is longer than delay_loop {Num(interval)} s: keepalived waits " +
                $"delay_loop after each check ends, TunLB starts one every interval and needs timeout <= interval, so timeout = {Num(interval)} s " +
                $"(a server that needs longer than that to answer now fails the check)");
            timeout = interval;
        }
        return (interval, timeout);
    }

    /// <summary>keepalived's hex strings (payload, require_reply): pairs of hex digits, spaces between bytes; x = any nibble.</summary>
    private string? Hex(KStatement s, bool wildcard)
    {
        var text = string.Join(' ', s.Args.Select(a => a.Text));
        var sb = new System.Text.StringBuilder();
        foreach (var word in text.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries))
        {
            for (int i = 0; i < word.Length; i += 2)
            {
                var pair = word.Substring(i, Math.Min(2, word.Length - i));
                if (wildcard && pair.Contains('x', StringComparison.OrdinalIgnoreCase)) { sb.Append('\0'); continue; }
                if (!int.TryParse(pair, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var b))
                {
                    Add(s, ImportSeverity.Note, s.Text, "not a hex string: keepalived ignores it (\"Invalid hex string\"), so does the import");
                    return null;
                }
                sb.Append((char)b);
            }
        }
        return sb.Length == 0 ? null : sb.ToString();
    }

    /// <summary>The payload as TunLB reads it: printable text as is, any other byte (and the backslash) as \xHH.</summary>
    private static string PayloadText(string raw)
    {
        var sb = new System.Text.StringBuilder();
        foreach (var ch in raw)
        {
            if (ch is >= ' ' and <= '~' && ch != '\\') sb.Append(ch);
            else sb.Append("\\x").Append(((int)ch).ToString("x2", CultureInfo.InvariantCulture));
        }
        return sb.ToString();
    }
}
