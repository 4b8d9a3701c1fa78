using TunLB.Core.Flows;

namespace TunLB.Core.Model;

/// <summary>VIP, port and protocol of a virtual service.</summary>
public readonly record struct ServiceKey(IpAddress Vip, ushort Port, byte Protocol)
{
    public override string ToString() => $"{FlowKey.ProtocolName(Protocol)} {Vip}:{Port}";
}
