using TunLB.Control.Configuration;
using TunLB.Core.Flows;
using TunLB.Core.Packets;

namespace TunLB.Director.Management;

/// <summary>A change to a real server through the API: null leaves a field as it is.</summary>
public sealed record RealChange(int? Weight = null, int? UpperThreshold = null, int? LowerThreshold = null,
    EncapKind? Encap = null, ushort? GuePort = null, bool? GueChecksum = null);

/// <summary>A new virtual service through the API (validated).</summary>
public sealed record ServiceDefinition(TunLB.Core.Model.ServiceKey Key, string Scheduler, string[] Flags, int MhTableSize,
    int PersistenceSeconds, int PersistencePrefix);

/// <summary>A change to a virtual service through the API: null leaves a field as it is.</summary>
public sealed record ServiceChange(string? Scheduler = null, string[]? Flags = null, int? MhTableSize = null,
    int? PersistenceSeconds = null, int? PersistencePrefix = null);
