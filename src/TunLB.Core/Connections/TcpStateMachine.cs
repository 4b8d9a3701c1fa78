using System.Runtime.CompilerServices;
using TunLB.Core.Packets;

namespace TunLB.Core.Connections;

/// <summary>
/// TCP state tracking as IPVS does it for forwarding methods where the director sees only the
/// client-to-server half of the connection (tunnel and direct routing): the "input only" table.
/// </summary>
/// <remarks>
/// The packet's flags select one row, by priority RST, then SYN, then FIN, then ACK; the current state
/// selects the column. A segment carrying none of the four flags moves the connection to CLOSE, which is
/// what IPVS does too (its set_tcp_state starts from CLOSE and skips the lookup for such segments).
/// <para>
/// Checked against net/netfilter/ipvs/ip_vs_proto_tcp.c. Two cells differ from the table in the task
/// brief and follow the kernel: FIN in CLOSE_WAIT stays CLOSE_WAIT, and RST in SYN_SENT goes to CLOSE.
/// </para>
/// </remarks>
public static class TcpStateMachine
{
    /// <summary>Row index of a flag set, or -1 when none of RST/SYN/FIN/ACK is set.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int FlagRow(byte tcpFlags)
    {
        if ((tcpFlags & TcpFlags.Rst) != 0) return RowRst;
        if ((tcpFlags & TcpFlags.Syn) != 0) return RowSyn;
        if ((tcpFlags & TcpFlags.Fin) != 0) return RowFin;
        if ((tcpFlags & TcpFlags.Ack) != 0) return RowAck;
        return -1;
    }

    public const int RowSyn = 0, RowFin = 1, RowAck = 2, RowRst = 3;

    // Short names to keep the table legible.
    private const byte NO = (byte)ConnState.None, ES = (byte)ConnState.Established, SS = (byte)ConnState.SynSent,
        SR = (byte)ConnState.SynRecv, FW = (byte)ConnState.FinWait, TW = (byte)ConnState.TimeWait,
        CL = (byte)ConnState.Close, CW = (byte)ConnState.CloseWait, LA = (byte)ConnState.LastAck,
        LI = (byte)ConnState.Listen, SA = (byte)ConnState.SynAck;

    // Four rows of 11 columns (one per TCP state, in enum order), flattened: next = s_next[row * 11 + state].
    // Columns:                     NO  ES  SS  SR  FW  TW  CL  CW  LA  LI  SA
    private static ReadOnlySpan<byte> Next =>
    [
        /* SYN */                   SR, ES, ES, SR, SR, SR, SR, SR, SR, SR, SR,
        /* FIN */                   CL, FW, SS, TW, FW, TW, CL, CW, LA, LI, TW,
        /* ACK */                   ES, ES, SS, ES, FW, TW, CL, CW, CL, LI, ES,
        /* RST */                   CL, CL, CL, SR, CL, CL, CL, CL, LA, LI, CL,
    ];

    /// <summary>
    /// The next state of a TCP connection in <paramref name="current"/> that receives a client segment
    /// with <paramref name="tcpFlags"/>. A non-TCP state (Udp, Template) is returned unchanged.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ConnState NextState(ConnState current, byte tcpFlags)
    {
        uint col = (uint)current;
        if (col >= ConnStates.TcpCount) return current;
        int row = FlagRow(tcpFlags);
        if (row < 0) return ConnState.Close;
        return (ConnState)Next[row * ConnStates.TcpCount + (int)col];
    }
}
