namespace TunLB.Core.Connections;

/// <summary>
/// Per-state idle timeouts in milliseconds. Immutable: the engine swaps the whole object, so a reader
/// always sees one consistent set. Defaults are the IPVS defaults.
/// </summary>
public sealed class ConnTimeouts
{
    private readonly long[] _ms; // indexed by ConnState

    /// <summary>The IPVS defaults: ES 900 s, SYN_SENT 120 s, SYN_RECV 60 s, FIN_WAIT 120 s, TIME_WAIT 120 s,
    /// CLOSE 10 s, CLOSE_WAIT 60 s, LAST_ACK 30 s, LISTEN 120 s, SYNACK 120 s, NONE 2 s, UDP 300 s.</summary>
    public static ConnTimeouts Default { get; } = new(new long[]
    {
        2_000,      // None
        900_000,    // Established
        120_000,    // SynSent
        60_000,     // SynRecv
        120_000,    // FinWait
        120_000,    // TimeWait
        10_000,     // Close
        60_000,     // CloseWait
        30_000,     // LastAck
        120_000,    // Listen
        120_000,    // SynAck
        300_000,    // Udp
        0,          // Template: its timeout is the service's persistence timeout
    });

    private ConnTimeouts(long[] ms) => _ms = ms;

    /// <summary>Timeout of <paramref name="state"/> in milliseconds.</summary>
    public long this[ConnState state] => _ms[(int)state];

    public long TcpMs => _ms[(int)ConnState.Established];
    public long TcpFinMs => _ms[(int)ConnState.FinWait];
    public long UdpMs => _ms[(int)ConnState.Udp];

    /// <summary>
    /// Like <c>ipvsadm --set tcp tcpfin udp</c> (seconds): tcp sets ESTABLISHED, tcpfin sets FIN_WAIT,
    /// udp sets UDP. A value of 0 leaves that timeout unchanged, as ipvsadm does. Negative values are rejected.
    /// </summary>
    public ConnTimeouts WithIpvsadmSet(int tcpSeconds, int tcpFinSeconds, int udpSeconds)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(tcpSeconds);
        ArgumentOutOfRangeException.ThrowIfNegative(tcpFinSeconds);
        ArgumentOutOfRangeException.ThrowIfNegative(udpSeconds);
        var ms = (long[])_ms.Clone();
        if (tcpSeconds > 0) ms[(int)ConnState.Established] = tcpSeconds * 1000L;
        if (tcpFinSeconds > 0) ms[(int)ConnState.FinWait] = tcpFinSeconds * 1000L;
        if (udpSeconds > 0) ms[(int)ConnState.Udp] = udpSeconds * 1000L;
        return new ConnTimeouts(ms);
    }

    /// <summary>A copy with one state's timeout replaced (milliseconds, must be positive).</summary>
    public ConnTimeouts With(ConnState state, long milliseconds)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(milliseconds);
        if (state == ConnState.Template) throw new ArgumentException("Template timeouts come from the service's persistence timeout.", nameof(state));
        var ms = (long[])_ms.Clone();
        ms[(int)state] = milliseconds;
        return new ConnTimeouts(ms);
    }

    /// <summary>The three values ipvsadm -L --timeout prints, in seconds.</summary>
    public override string ToString() => $"Timeout (tcp tcpfin udp): {TcpMs / 1000} {TcpFinMs / 1000} {UdpMs / 1000}";
}
