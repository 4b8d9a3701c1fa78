namespace TunLB.Control.Configuration;

// The SYN flood defence and the API's TLS (docs/robustness.md, docs/configuration.md).
public sealed partial record DirectorSettings
{
    /// <summary>New TCP connections per second and worker above which the SYN flood defence engages; 0 = never.</summary>
    public int SynFloodRate { get; init; } = 100_000;
    /// <summary>What the engaged defence does: "short_synrecv", "stateless" or "both".</summary>
    public string SynFloodMode { get; init; } = "short_synrecv";
    /// <summary>SYN_RECV timeout in seconds while the defence is engaged with short_synrecv.</summary>
    public int SynFloodSynRecvTimeout { get; init; } = 5;
    /// <summary>Percent of the connection table from which new entries evict half-open (SYN_RECV) ones first; 0 = off.</summary>
    public int ConnHalfOpenFill { get; init; } = 90;
    /// <summary>PEM certificate the API serves TLS with; empty = plain HTTP. Without <see cref="ApiTlsKey"/> the file holds the key too.</summary>
    public string ApiTlsCert { get; init; } = "";
    /// <summary>PEM private key of <see cref="ApiTlsCert"/>.</summary>
    public string ApiTlsKey { get; init; } = "";
}
