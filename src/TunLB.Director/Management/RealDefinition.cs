using TunLB.Control.Configuration;
using TunLB.Core.Flows;
using TunLB.Core.Packets;

namespace TunLB.Director.Management;

/// <summary>A real server's validated settings, from the config file or the API.</summary>
public sealed record RealDefinition(
    IpAddress Address, ushort Port, int Weight, int UpperThreshold = 0, int LowerThreshold = 0,
    EncapKind Encap = EncapKind.Ipip, ushort GuePort = Tunnel.DefaultGuePort, bool GueChecksum = false, int Mtu = 0)
{
    public static RealDefinition From(RealConfig r) => new(r.Address, r.Port, r.Weight, r.UpperThreshold, r.LowerThreshold,
        r.Encap, (ushort)r.GuePort, r.GueChecksum, r.Mtu);
}

/// <summary>A change to a real server through the API: null leaves a field as it is.</summary>
public sealed record RealChange(int? Weight = null, int? UpperThreshold = null, int? LowerThreshold = null,
    EncapKind? Encap = null, ushort? GuePort = null, bool? GueChecksum = null);

/// <summary>A new virtual service through the API (validated).</summary>
public sealed record ServiceDefinition(TunLB.Core.Model.ServiceKey Key, string Scheduler, string[] Flags, int MhTableSize,
    int PersistenceSeconds, int PersistencePrefix);

/// <summary>A change to a virtual service through the API: null leaves a field as it is.</summary>
public sealed record ServiceChange(string? Scheduler = null, string[]? Flags = null, int? MhTableSize = null,
    int? PersistenceSeconds = null, int? PersistencePrefix = null);
