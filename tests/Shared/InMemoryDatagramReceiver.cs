using TunLB.Core.Flows;
using TunLB.Linux;

namespace TunLB.Tests.Shared;

/// <summary>
/// An <see cref="IDatagramBatchReceiver"/> fed by the test: each queued batch (datagrams with their senders) comes out of
/// one <see cref="ReceiveMany"/>, a queued timeout returns 0, and once the queue is empty (or after
/// <see cref="Dispose"/>) it returns -1, as a closed socket.
/// </summary>
internal sealed class InMemoryDatagramReceiver : IDatagramBatchReceiver
{
    private readonly Queue<(byte[] Bytes, IpAddress Source)[]?> _queue = new(); // null: one timeout
    private bool _disposed;

    public string Name => "memory";
    public int LastError => 0;

    /// <summary>Calls to <see cref="ReceiveMany"/> so far.</summary>
    public int Calls { get; private set; }

    public void Enqueue(params (byte[] Bytes, IpAddress Source)[] batch) { lock (_queue) _queue.Enqueue(batch); }

    public void EnqueueTimeout() { lock (_queue) _queue.Enqueue(null); }

    public int ReceiveMany(DatagramBatch batch, int timeoutMs)
    {
        batch.Clear();
        lock (_queue)
        {
            Calls++;
            if (_disposed || !_queue.TryDequeue(out var b)) return -1;
            if (b is null) return 0;
            foreach (var (bytes, source) in b)
                if (!batch.Add(bytes, source)) throw new InvalidOperationException("more datagrams queued than the batch holds");
            return batch.Count;
        }
    }

    public void Dispose() { lock (_queue) _disposed = true; }
}
