using System.Runtime.CompilerServices;

namespace TunLB.Core.Connections;

/// <summary>
/// Connection state. The TCP values 0..10 follow the IPVS TCP state numbering (IP_VS_TCP_S_*), so they
/// index the transition table and the timeout table directly; <see cref="Udp"/> and <see cref="Template"/>
/// follow them.
/// </summary>
public enum ConnState : byte
{
    None = 0,
    Established = 1,
    SynSent = 2,
    SynRecv = 3,
    FinWait = 4,
    TimeWait = 5,
    Close = 6,
    CloseWait = 7,
    LastAck = 8,
    Listen = 9,
    SynAck = 10,
    /// <summary>Any UDP flow (IPVS keeps a single "normal" UDP state).</summary>
    Udp = 11,
    /// <summary>A persistence template (not a flow; protocol 0 key).</summary>
    Template = 12,
}

public static class ConnStates
{
    /// <summary>Number of <see cref="ConnState"/> values.</summary>
    public const int Count = (int)ConnState.Template + 1;

    /// <summary>Number of TCP states (None .. SynAck).</summary>
    public const int TcpCount = (int)ConnState.SynAck + 1;

    /// <summary>
    /// True for states counted as ActiveConn by ipvsadm: only TCP ESTABLISHED. Everything else, UDP
    /// included, is InActConn. Templates are counted separately (persistent connections).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsActive(ConnState state) => state == ConnState.Established;

    private static readonly string[] s_names =
    [
        "NONE", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT", "TIME_WAIT", "CLOSE",
        "CLOSE_WAIT", "LAST_ACK", "LISTEN", "SYNACK", "UDP", "NONE",
    ];

    /// <summary>The name ipvsadm -L -c prints for the state (templates print as NONE, as in IPVS).</summary>
    public static string Name(this ConnState state) => (uint)state < (uint)s_names.Length ? s_names[(int)state] : "ERR!";
}
