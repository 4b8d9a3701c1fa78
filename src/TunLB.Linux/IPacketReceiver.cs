namespace TunLB.Linux;

/// <summary>
/// The receive side of a packet port: a TUN device (or one of its queues), a raw IP socket, an AF_PACKET ring, later
/// AF_XDP. <see cref="Receive"/> is the hot path: it never allocates, locks, logs or throws. One thread receives;
/// <see cref="IDisposable.Dispose"/> may be called from any thread and makes a Receive blocked in another thread
/// return -1 within its timeout. The send side is <see cref="IPacketSender"/>.
/// </summary>
public interface IPacketReceiver : IDisposable
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
}
