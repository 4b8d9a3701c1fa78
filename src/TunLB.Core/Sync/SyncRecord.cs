using TunLB.Core.Connections;
using TunLB.Core.Flows;
using TunLB.Core.Packets;

namespace TunLB.Core.Sync;

/// <summary>
/// One connection (or persistence template) as the IPVS sync protocol v1 carries it (<c>struct ip_vs_sync_v4/v6</c>):
/// protocol, flags, state, the three ports, fwmark, timeout in seconds and the client, virtual and real addresses.
/// </summary>
public readonly record struct SyncRecord(
    byte Protocol,
    uint Flags,
    ushort State,
    ushort ClientPort,
    ushort VirtualPort,
    ushort RealPort,
    uint FwMark,
    uint TimeoutSeconds,
    IpAddress Client,
    IpAddress Virtual,
    IpAddress Real)
{
    // IP_VS_CONN_F_* (include/uapi/linux/ip_vs.h): the values people who know IPVS read in tshark.
    public const uint FlagTunnel = 0x0002;       // IP_VS_CONN_F_TUNNEL (forwarding method)
    public const uint FlagNoOutput = 0x0080;     // IP_VS_CONN_F_NOOUTPUT: the director sees only client packets
    public const uint FlagInactive = 0x0100;     // IP_VS_CONN_F_INACTIVE: not (yet) established
    public const uint FlagTemplate = 0x1000;     // IP_VS_CONN_F_TEMPLATE: a persistence template

    public bool IsTemplate => (Flags & FlagTemplate) != 0;
    public bool IsV6 => !Client.IsV4;

    /// <summary>The table key this record describes (a template's key as <c>DirectorEngine.TemplateKey</c> builds it).</summary>
    public FlowKey Key => IsTemplate
        ? new FlowKey(Client, Virtual, Protocol, VirtualPort, 0)
        : new FlowKey(Client, Virtual, ClientPort, VirtualPort, Protocol);

    /// <summary>The connection state this record carries, in TunLB's terms (TCP states are IPVS's numbers).</summary>
    public ConnState ConnState => IsTemplate ? ConnState.Template
        : Protocol == IpProtocol.Tcp ? (State < ConnStates.TcpCount ? (ConnState)State : ConnState.None)
        : ConnState.Udp;

    /// <summary>The record for a table entry: <paramref name="key"/> and <paramref name="state"/> as the table holds them.</summary>
    public static SyncRecord From(in FlowKey key, ConnState state, IpAddress real, ushort realPort, uint timeoutSeconds)
    {
        bool template = state == ConnState.Template;
        uint flags = FlagTunnel | FlagNoOutput | (template ? FlagTemplate : 0) | (state == ConnState.Established || template ? 0 : FlagInactive);
        // A template's key keeps the service protocol in the client-port field (protocol 0 keeps it apart from flows).
        byte protocol = template ? (byte)key.SourcePort : key.Protocol;
        ushort wireState = template || key.Protocol != IpProtocol.Tcp ? (ushort)0 : (ushort)state; // IPVS: UDP "normal" = 0
        return new SyncRecord(protocol, flags, wireState, template ? (ushort)0 : key.SourcePort, key.DestinationPort, realPort, 0,
            timeoutSeconds, key.Source, key.Destination, real);
    }
}
