namespace TunLB.Linux;

/// <summary>
/// A socket that receives many datagrams per system call into a <see cref="DatagramBatch"/> (recvmmsg(2)), with each
/// one's sender. Same contract as <see cref="IPacketReceiver.Receive"/>: one thread receives, nothing on the hot path
/// allocates, locks, logs or throws, and <see cref="IDisposable.Dispose"/> from another thread makes a blocked call
/// return -1 within its timeout.
/// </summary>
public interface IDatagramBatchReceiver : IDisposable
{
    string Name { get; }

    /// <summary>The errno of the last failed call (0 if none yet); for diagnostics only.</summary>
    int LastError { get; }

    /// <summary>
    /// Waits up to <paramref name="timeoutMs"/> for datagrams, then takes as many as are queued (up to the batch's
    /// capacity). Returns how many (also in <see cref="DatagramBatch.Count"/>), 0 on timeout or a transient error,
    /// -1 when the socket is closed or has failed for good.
    /// </summary>
    int ReceiveMany(DatagramBatch batch, int timeoutMs);
}
