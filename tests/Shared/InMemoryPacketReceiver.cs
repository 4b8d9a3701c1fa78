using TunLB.Linux;

namespace TunLB.Tests.Shared;

/// <summary>
/// An <see cref="IPacketReceiver"/> fed by the test: queued packets come out in order, a queued timeout returns 0, and
/// after <see cref="Complete"/> (once the queue is empty) or <see cref="Dispose"/> Receive returns -1, as a closed port.
/// With nothing queued Receive waits up to its timeout for <see cref="Enqueue"/>, so a worker can run on its own thread.
/// </summary>
internal sealed class InMemoryPacketReceiver : IPacketReceiver
{
    private readonly Queue<byte[]?> _queue = new(); // null: one timeout
    private bool _completed, _disposed;

    public string Name => "memory";
    public int LastError => 0;

    /// <summary>Calls to <see cref="Receive"/> so far.</summary>
    public int Receives { get { lock (_queue) return _receives; } }
    private int _receives;

    /// <summary>Calls with timeout 0 (the worker draining a batch without waiting).</summary>
    public int NonBlockingReceives { get { lock (_queue) return _nonBlocking; } }
    private int _nonBlocking;

    public void Enqueue(params byte[][] packets)
    {
        lock (_queue)
        {
            foreach (var p in packets) _queue.Enqueue(p);
            Monitor.PulseAll(_queue);
        }
    }

    /// <summary>The next Receive returns 0, as a poll timeout.</summary>
    public void EnqueueTimeout(int count = 1)
    {
        lock (_queue)
        {
            for (int i = 0; i < count; i++) _queue.Enqueue(null);
            Monitor.PulseAll(_queue);
        }
    }

    /// <summary>Once the queued items are read, Receive returns -1.</summary>
    public void Complete()
    {
        lock (_queue) { _completed = true; Monitor.PulseAll(_queue); }
    }

    public int Receive(Span<byte> buffer, int timeoutMs)
    {
        lock (_queue)
        {
            _receives++;
            if (timeoutMs == 0) _nonBlocking++;
            while (true)
            {
                if (_disposed) return -1;
                if (_queue.TryDequeue(out var p))
                {
                    if (p is null) return 0;
                    int n = Math.Min(p.Length, buffer.Length);
                    p.AsSpan(0, n).CopyTo(buffer);
                    return n;
                }
                if (_completed) return -1;
                if (timeoutMs == 0 || !Monitor.Wait(_queue, timeoutMs)) return 0;
            }
        }
    }

    public void Dispose()
    {
        lock (_queue) { _disposed = true; Monitor.PulseAll(_queue); }
    }
}
