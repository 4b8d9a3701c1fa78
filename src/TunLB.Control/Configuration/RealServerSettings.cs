using TunLB.Core.Flows;
using TunLB.Core.Packets;

namespace TunLB.Control.Configuration;

/// <summary>One real server, checked by <see cref="RealServerRules"/>: every value is in range and consistent.</summary>
/// <param name="Mtu">Path MTU toward the server; 0 = from the route.</param>
/// <param name="GuePort">The GUE port (the default when the server is reached by IPIP).</param>
/// <param name="GueChecksum">GUE over IPv4: fill the UDP checksum (always false with IPIP).</param>
public sealed record RealServerSettings(
    IpAddress Address, ushort Port, int Weight, int UpperThreshold, int LowerThreshold,
    EncapKind Encap, ushort GuePort, bool GueChecksum, int Mtu)
{
    /// <summary>Metadata (<c>site</c>, <c>provider</c>); null when not given. Not used by the data path.</summary>
    public string? Site { get; init; }
    public string? Provider { get; init; }
}
