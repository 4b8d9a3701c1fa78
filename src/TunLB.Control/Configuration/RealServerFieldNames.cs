namespace TunLB.Control.Configuration;

/// <summary>What a caller calls each real-server field, so <see cref="RealServerRules"/>' errors name what its user wrote.</summary>
public sealed record RealServerFieldNames(
    string Address, string Port, string Weight, string UpperThreshold, string LowerThreshold,
    string Mtu, string Encap, string GuePort, string GueChecksum)
{
    /// <summary>The keys of a <c>[[service.real]]</c> table.</summary>
    public static readonly RealServerFieldNames Config =
        new("address", "port", "weight", "upper_threshold", "lower_threshold", "mtu", "encap", "gue_port", "gue_checksum");

    /// <summary>The fields of the API's <c>RealSpec</c> (ipvsadm's names for the tunnel; the API has no mtu).</summary>
    public static readonly RealServerFieldNames Api =
        new("address", "port", "weight", "upper_threshold", "lower_threshold", "mtu", "tun_type", "tun_port", "tun_flags");

    /// <summary>Metadata keys (the same in the file and the API).</summary>
    public string Site { get; init; } = "site";
    public string Provider { get; init; } = "provider";

    /// <summary>Every name, in the order of a config file's known keys and of the errors.</summary>
    public IReadOnlyList<string> All => [Address, Port, Weight, UpperThreshold, LowerThreshold, Mtu, Encap, GuePort, GueChecksum, Site, Provider];
}
