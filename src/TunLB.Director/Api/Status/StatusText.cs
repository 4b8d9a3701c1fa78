using System.Globalization;
using System.Net;

namespace TunLB.Director.Api.Status;

/// <summary>Numbers, durations and HTML escaping as the status page writes them.</summary>
internal static class StatusText
{
    public static string H(string? s) => WebUtility.HtmlEncode(s ?? "");

    /// <summary>"42s", "3m12s", "2h05m", "4d03h".</summary>
    public static string Duration(TimeSpan t)
    {
        if (t < TimeSpan.Zero) t = TimeSpan.Zero;
        if (t.TotalSeconds < 60) return $"{(int)t.TotalSeconds}s";
        if (t.TotalMinutes < 60) return $"{(int)t.TotalMinutes}m{t.Seconds:00}s";
        if (t.TotalHours < 24) return $"{(int)t.TotalHours}h{t.Minutes:00}m";
        return $"{(int)t.TotalDays}d{t.Hours:00}h";
    }

    /// <summary>1234567 -> "1.23M"; small numbers as they are.</summary>
    public static string Si(double v)
    {
        var inv = CultureInfo.InvariantCulture;
        double a = Math.Abs(v);
        if (a >= 1e9) return (v / 1e9).ToString("0.##", inv) + "G";
        if (a >= 1e6) return (v / 1e6).ToString("0.##", inv) + "M";
        if (a >= 1e4) return (v / 1e3).ToString("0.#", inv) + "k";
        return a >= 100 || v == Math.Floor(v) ? v.ToString("0", inv) : v.ToString("0.#", inv);
    }

    public static string Bytes(double v)
    {
        var inv = CultureInfo.InvariantCulture;
        if (v >= 1 << 30) return (v / (1 << 30)).ToString("0.##", inv) + " GiB";
        if (v >= 1 << 20) return (v / (1 << 20)).ToString("0.##", inv) + " MiB";
        if (v >= 1 << 10) return (v / (1 << 10)).ToString("0.#", inv) + " KiB";
        return v.ToString("0", inv) + " B";
    }

    public static string Time(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    public static string Iso(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
}
