using TunLB.Core.Flows;

namespace TunLB.Linux;

/// <summary>
/// One packet I/O endpoint: a TUN device, a raw IP socket, and later AF_PACKET and AF_XDP ports.
/// <see cref="Receive"/> and <see cref="Send"/> are the hot path: they never allocate, lock, log or throw.
/// One thread may Receive while another Sends; <see cref="IDisposable.Dispose"/> may be called from any thread and makes a
/// Receive blocked in another thread return -1 within its timeout.
/// </summary>
public interface IPacketPort : IDisposable
{
    /// <summary>The device name (TUN) or a description of the socket.</summary>
    string Name { get; }

    /// <summary>The errno of the last failed call on this port (0 if none yet); for diagnostics only.</summary>
    int LastError { get; }

    /// <summary>
    /// Receives one packet; returns its length, 0 on timeout (or on a transient error, kept in <see cref="LastError"/>),
    /// -1 when the port is closed/disposed or has failed for good. Never throws on the hot path.
    /// A packet longer than <paramref name="buffer"/> is truncated: pass a buffer of at least the MTU.
    /// </summary>
    int Receive(Span<byte> buffer, int timeoutMs);

    /// <summary>
    /// Sends one IP packet. <paramref name="nextHop"/> is used by routed ports (raw socket sendto), ignored by TUN.
    /// Returns false on error (errno kept in <see cref="LastError"/>).
    /// </summary>
    bool Send(ReadOnlySpan<byte> packet, in IpAddress nextHop);
}
