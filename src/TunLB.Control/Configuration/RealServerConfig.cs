using TunLB.Core.Flows;
using TunLB.Core.Packets;

namespace TunLB.Control.Configuration;

/// <summary>A validated real-server configuration (realserver.toml).</summary>
public sealed partial record RealServerConfig(
    IReadOnlyList<IpAddress> Vips,
    IReadOnlyList<IpAddress> Directors,
    string TunName,
    string SourcePath)
{
    public const string DefaultTunName = "tunlb-rs0";
    public const int DefaultGuePort = Tunnel.DefaultGuePort;
    /// <summary><see cref="MssClamp"/> value meaning "clamp to the route MTU" (<c>mss_clamp = "auto"</c>).</summary>
    public const int MssClampAuto = -1;

    /// <summary>Also receive GUE (UDP) on <see cref="GuePort"/>, which needs no raw socket and passes protocol-4 filters.</summary>
    public bool Gue { get; init; }
    /// <summary>UDP port the GUE receiver binds.</summary>
    public int GuePort { get; init; } = DefaultGuePort;
    /// <summary>
    /// TCP MSS clamp on SYN-ACKs the VIPs send: 0 = off, <see cref="MssClampAuto"/> = the route's MTU minus headers,
    /// otherwise the MSS in bytes.
    /// </summary>
    public int MssClamp { get; init; }
    /// <summary>Receive packet steering on the TUN device: the server's receive work spread over CPUs by flow.</summary>
    public RpsMode Rps { get; init; } = RpsMode.Off;
    /// <summary>Whether the TUN device's receive work runs in a NAPI kernel thread rather than in the agent's writes.</summary>
    public NapiMode Napi { get; init; } = NapiMode.Off;
    /// <summary>Where IP-in-IP is decapsulated: by the agent (default) or by an XDP program on the uplinks.</summary>
    public DecapMode Decap { get; init; } = DecapMode.Agent;
    /// <summary>With <see cref="DecapMode.Xdp"/>: the devices to attach to; empty = every routed Ethernet device.</summary>
    public IReadOnlyList<string> XdpDevices { get; init; } = [];

    /// <summary>The <c>[egress]</c> schedule (null when the table is absent; off unless its interval is set).</summary>
    public EgressScheduleConfig? Egress { get; init; }
}
