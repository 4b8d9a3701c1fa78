namespace TunLB.Control.Configuration;

public sealed partial record RealServerConfig
{
    /// <summary>
    /// <c>metrics = "127.0.0.1:9403"</c>: where the agent serves its counters (Prometheus text, GET /metrics); empty = off.
    /// <see cref="MetricsHost"/> is an IP literal, <see cref="MetricsPort"/> 1..65535.
    /// </summary>
    public string Metrics { get; init; } = "";
    public string MetricsHost { get; init; } = "";
    public int MetricsPort { get; init; }
}
