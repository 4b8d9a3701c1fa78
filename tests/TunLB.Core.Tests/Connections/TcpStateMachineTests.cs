using TunLB.Core.Connections;
using TunLB.Core.Packets;
using static TunLB.Core.Connections.ConnState;

namespace TunLB.Core.Tests.Connections;

public class TcpStateMachineTests
{
    private static readonly ConnState[] Columns =
        [None, Established, SynSent, SynRecv, FinWait, TimeWait, Close, CloseWait, LastAck, Listen, SynAck];

    // The IPVS input-only table (ip_vs_proto_tcp.c), one row per flag class, columns in the order above.
    private static readonly ConnState[] SynRow = [SynRecv, Established, Established, SynRecv, SynRecv, SynRecv, SynRecv, SynRecv, SynRecv, SynRecv, SynRecv];
    private static readonly ConnState[] FinRow = [Close, FinWait, SynSent, TimeWait, FinWait, TimeWait, Close, CloseWait, LastAck, Listen, TimeWait];
    private static readonly ConnState[] AckRow = [Established, Established, SynSent, Established, FinWait, TimeWait, Close, CloseWait, Close, Listen, Established];
    private static readonly ConnState[] RstRow = [Close, Close, Close, SynRecv, Close, Close, Close, Close, LastAck, Listen, Close];

    public static TheoryData<byte, ConnState, ConnState> Transitions()
    {
        var data = new TheoryData<byte, ConnState, ConnState>();
        for (int c = 0; c < Columns.Length; c++)
        {
            data.Add(TcpFlags.Syn, Columns[c], SynRow[c]);
            data.Add(TcpFlags.Fin, Columns[c], FinRow[c]);
            data.Add(TcpFlags.Ack, Columns[c], AckRow[c]);
            data.Add(TcpFlags.Rst, Columns[c], RstRow[c]);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Transitions))]
    public void Table_matches_ipvs_input_only(byte flags, ConnState from, ConnState expected) =>
        Assert.Equal(expected, TcpStateMachine.NextState(from, flags));

    [Theory]
    [InlineData(TcpFlags.Syn | TcpFlags.Ack, Established, Established)]      // SYN beats ACK
    [InlineData(TcpFlags.Syn | TcpFlags.Ack, TimeWait, SynRecv)]
    [InlineData(TcpFlags.Rst | TcpFlags.Syn, SynRecv, SynRecv)]              // RST beats SYN: rst row
    [InlineData(TcpFlags.Rst | TcpFlags.Ack, Established, Close)]            // RST beats ACK
    [InlineData(TcpFlags.Fin | TcpFlags.Ack, Established, FinWait)]          // FIN beats ACK
    [InlineData(TcpFlags.Syn | TcpFlags.Fin, Established, Established)]      // SYN beats FIN
    [InlineData(TcpFlags.Psh | TcpFlags.Ack, SynRecv, Established)]          // PSH is ignored
    [InlineData(TcpFlags.Psh, Established, Close)]                           // no SYN/FIN/ACK/RST: CLOSE, as IPVS
    [InlineData(0, Established, Close)]
    public void Flag_priority(byte flags, ConnState from, ConnState expected) =>
        Assert.Equal(expected, TcpStateMachine.NextState(from, flags));

    [Theory]
    [InlineData(Udp)]
    [InlineData(Template)]
    public void Non_tcp_states_are_unchanged(ConnState s) =>
        Assert.Equal(s, TcpStateMachine.NextState(s, TcpFlags.Rst));

    [Fact]
    public void Only_established_is_active()
    {
        foreach (ConnState s in Enum.GetValues<ConnState>())
            Assert.Equal(s == Established, ConnStates.IsActive(s));
    }

    [Fact]
    public void Handshake_and_close_walk()
    {
        var s = None;
        s = TcpStateMachine.NextState(s, TcpFlags.Syn); Assert.Equal(SynRecv, s);
        s = TcpStateMachine.NextState(s, TcpFlags.Ack); Assert.Equal(Established, s);
        s = TcpStateMachine.NextState(s, TcpFlags.Fin | TcpFlags.Ack); Assert.Equal(FinWait, s);
        s = TcpStateMachine.NextState(s, TcpFlags.Ack); Assert.Equal(FinWait, s);
        s = TcpStateMachine.NextState(s, TcpFlags.Rst); Assert.Equal(Close, s);
    }
}
