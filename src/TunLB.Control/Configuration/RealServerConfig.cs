using TunLB.Core.Flows;

namespace TunLB.Control.Configuration;

/// <summary>A validated real-server configuration (realserver.toml).</summary>
public sealed partial record RealServerConfig(
    IReadOnlyList<IpAddress> Vips,
    IReadOnlyList<IpAddress> Directors,
    string TunName,
    string SourcePath)
{
    public const string DefaultTunName = "tunlb-rs0";
}
