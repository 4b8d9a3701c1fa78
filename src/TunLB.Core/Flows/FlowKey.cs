using System.Runtime.CompilerServices;

namespace TunLB.Core.Flows;

/// <summary>The 5-tuple of one direction of a flow (client to VIP). 40 bytes.</summary>
public readonly struct FlowKey : IEquatable<FlowKey>
{
    public readonly IpAddress Source;
    public readonly IpAddress Destination;
    public readonly ushort SourcePort;
    public readonly ushort DestinationPort;
    public readonly byte Protocol;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public FlowKey(IpAddress source, IpAddress destination, ushort sourcePort, ushort destinationPort, byte protocol)
    {
        Source = source; Destination = destination;
        SourcePort = sourcePort; DestinationPort = destinationPort; Protocol = protocol;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Equals(FlowKey o) =>
        Source.Lo == o.Source.Lo && Destination.Lo == o.Destination.Lo &&
        SourcePort == o.SourcePort && DestinationPort == o.DestinationPort && Protocol == o.Protocol &&
        Source.Hi == o.Source.Hi && Destination.Hi == o.Destination.Hi;

    public override bool Equals(object? obj) => obj is FlowKey o && Equals(o);
    public override int GetHashCode() => (int)FlowHash.Hash(this, 0);
    public override string ToString() => $"{ProtocolName(Protocol)} {Source}:{SourcePort} -> {Destination}:{DestinationPort}";

    public static string ProtocolName(byte p) => p switch { 6 => "TCP", 17 => "UDP", 1 => "ICMP", 58 => "ICMPv6", _ => p.ToString() };
}
