namespace TunLB.Control.Configuration;

/// <summary>
/// The fields of one real server as a config file, the API or <c>tunlb adm</c> gave them, before any check. Null = not
/// given: <see cref="RealServerRules"/> applies the default. Numbers are wide so an out-of-range value reaches the
/// rules and is reported by them, not lost in a conversion.
/// </summary>
public sealed record RealServerFields
{
    public string? Address { get; init; }
    /// <summary>Default: the service port (tunnel mode never rewrites ports).</summary>
    public long? Port { get; init; }
    public long? Weight { get; init; }
    public long? UpperThreshold { get; init; }
    public long? LowerThreshold { get; init; }
    /// <summary>"ipip" or "gue" (<see cref="ConfigNames.Encap"/>).</summary>
    public string? Encap { get; init; }
    public long? GuePort { get; init; }
    public bool? GueChecksum { get; init; }
    public long? Mtu { get; init; }
    /// <summary>Free-form metadata: the datacenter the real server is in (egress results are grouped by it).</summary>
    public string? Site { get; init; }
    /// <summary>Free-form metadata: the provider, ideally a name or alias of data/providers.toml (egress-check hints).</summary>
    public string? Provider { get; init; }
}
