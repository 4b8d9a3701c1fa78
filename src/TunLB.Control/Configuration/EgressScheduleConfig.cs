using TunLB.Core.Flows;

namespace TunLB.Control.Configuration;

/// <summary>
/// The <c>[egress]</c> table of realserver.toml: the agent runs the egress check on a schedule and reports each result
/// to the director (<c>POST /api/v1/egress/results</c>). Off unless <see cref="IntervalSeconds"/> is set; the interval
/// is at least <see cref="MinIntervalSeconds"/> and the probe rate at most <see cref="MaxRate"/>/s, so a fleet of
/// agents stays a trickle of traceroutes. See docs/egress-check.md.
/// </summary>
public sealed record EgressScheduleConfig
{
    public const int MinIntervalSeconds = 300;
    public const int MaxIntervalSeconds = 7 * 86400;
    public const double MaxRate = 20;

    /// <summary>Seconds between checks (0 = off).</summary>
    public int IntervalSeconds { get; init; }
    /// <summary>The one address to probe toward.</summary>
    public IpAddress Target { get; init; }
    /// <summary>The director API, http://HOST:PORT: answers are fetched and results posted there.</summary>
    public string Director { get; init; } = "";
    public string? Token { get; init; }
    /// <summary>The VIP to check; default: the first of <c>realserver.vips</c> of the target's family.</summary>
    public IpAddress? Vip { get; init; }
    /// <summary>This real server's address as the director's config names it; default: the source address toward the director.</summary>
    public IpAddress? Address { get; init; }
    public int MaxHops { get; init; } = 16;
    public double Rate { get; init; } = 5;

    public static readonly string[] Keys = ["interval", "target", "director", "token", "vip", "address", "max_hops", "rate"];

    /// <summary>Reads <c>[egress]</c> (null when absent); every error goes to the reader's sink.</summary>
    internal static EgressScheduleConfig? Read(TableReader top, IReadOnlyList<IpAddress> vips)
    {
        var e = top.Get("egress");
        if (e is null) return null;
        if (e.Value is not TTable t) { top.TypeError(e, "a table ([egress] header)"); return null; }
        var r = top.Child(t, "egress", Keys);
        int interval = r.Int("interval", 0, MaxIntervalSeconds, 0);
        if (interval is > 0 and < MinIntervalSeconds)
        {
            r.ErrorAt("interval", $"interval {interval} is too short; at least {MinIntervalSeconds} s (or 0 = off)");
            interval = 0;
        }
        IpAddress target = default;
        bool hasTarget = r.Get("target") is { } te && r.TryHostAddress(te, out target);
        string director = r.String("director") ?? "";
        if (interval > 0 && !hasTarget && r.Get("target") is null) r.ErrorAt("interval", "egress.target is required when egress.interval is set");
        if (interval > 0 && director.Length == 0) r.ErrorAt("interval", "egress.director (http://HOST:PORT of the director API) is required when egress.interval is set");
        if (director.Length > 0 && (!Uri.TryCreate(director, UriKind.Absolute, out var u) || u.Scheme is not ("http" or "https")))
            r.ErrorAt("director", $"\"{director}\" is not an http:// or https:// URL");
        IpAddress? vip = r.Get("vip") is { } ve && r.TryHostAddress(ve, out var v) ? v : null;
        if (vip is { } vv && !vips.Contains(vv)) r.ErrorAt("vip", $"{vv} is not one of realserver.vips");
        if (hasTarget && vip is null) vip = vips.Cast<IpAddress?>().FirstOrDefault(x => x!.Value.IsV4 == target.IsV4);
        if (interval > 0 && hasTarget && vip is null) r.ErrorAt("target", $"no VIP of {(target.IsV4 ? "IPv4" : "IPv6")} in realserver.vips to check toward {target}");
        if (vip is { } v2 && hasTarget && v2.IsV4 != target.IsV4) r.ErrorAt("target", "egress.target must be of egress.vip's family");
        IpAddress? address = r.Get("address") is { } ae && r.TryHostAddress(ae, out var a) ? a : null;
        int maxHops = r.Int("max_hops", 1, 64, 16);
        double rate = 5;
        if (r.Get("rate") is { } re)
        {
            if (re.Value is TScalar { Value: long l } && l >= 1 && l <= MaxRate) rate = l;
            else if (re.Value is TScalar { Value: double d } && d > 0 && d <= MaxRate) rate = d;
            else r.Error(re, $"rate must be a number of probes per second, above 0 and at most {MaxRate}");
        }
        return new EgressScheduleConfig
        {
            IntervalSeconds = interval, Target = target, Director = director, Token = r.String("token"), Vip = vip,
            Address = address, MaxHops = maxHops, Rate = rate,
        };
    }
}
