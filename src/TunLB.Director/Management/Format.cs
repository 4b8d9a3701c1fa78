using TunLB.Core.Flows;

namespace TunLB.Director.Management;

/// <summary>How the director names protocols and endpoints in logs, listings and errors (as ipvsadm).</summary>
public static class Format
{
    public static string ProtocolName(byte p) => p == 17 ? "udp" : "tcp";

    public static string Endpoint(IpAddress a, int port) => a.IsV4 ? $"{a}:{port}" : $"[{a}]:{port}";
}
