using System.Collections.Concurrent;

namespace TunLB.Director.Workers;

/// <summary>
/// Control work that must run on a data-path worker's own thread, between packets: anything that reads or writes
/// worker-owned state (its connection table, its counter slots, its timeouts). One queue per worker.
/// </summary>
/// <remarks>
/// A worker checks <see cref="HasPending"/> once per loop (one volatile read when idle) and calls
/// <see cref="RunPending"/>. A worker that is not attached (not started, or stopped) has its work run inline by the
/// caller, so tests and a director before start need no thread.
/// </remarks>
public sealed class WorkerCommandQueue
{
    private readonly ConcurrentQueue<Action>[] _queues;
    private readonly bool[] _pending;   // per worker, Volatile
    private readonly bool[] _attached;  // per worker, Volatile
    private readonly object _inlineGate = new();

    public WorkerCommandQueue(int workers, TimeSpan timeout)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(workers, 1);
        _queues = new ConcurrentQueue<Action>[workers];
        for (int w = 0; w < workers; w++) _queues[w] = new ConcurrentQueue<Action>();
        _pending = new bool[workers];
        _attached = new bool[workers];
        Timeout = timeout;
    }

    /// <summary>How long <see cref="Run{TContext,T}"/> waits for a worker.</summary>
    public TimeSpan Timeout { get; }

    public int Workers => _queues.Length;

    /// <summary>True while any worker is attached.</summary>
    public bool AnyAttached
    {
        get
        {
            for (int w = 0; w < _attached.Length; w++)
                if (Volatile.Read(ref _attached[w])) return true;
            return false;
        }
    }

    /// <summary>Sets every worker's flag (a single-worker daemon and tests).</summary>
    public void SetAllAttached(bool attached)
    {
        for (int w = 0; w < _attached.Length; w++) SetAttached(w, attached);
    }

    /// <summary>Worker <paramref name="worker"/> started (true) or stopped (false): a stopped worker's queued work runs inline.</summary>
    public void SetAttached(int worker, bool attached)
    {
        Volatile.Write(ref _attached[worker], attached);
        if (!attached) RunPending(worker); // nobody else will
    }

    /// <summary>True when control work waits for worker <paramref name="worker"/> (one volatile read: its per-loop check).</summary>
    public bool HasPending(int worker) => Volatile.Read(ref _pending[worker]);

    /// <summary>Runs every worker's queued control work on the calling thread (tests, or when no worker is attached).</summary>
    public void RunAllPending()
    {
        for (int w = 0; w < _queues.Length; w++) RunPending(w);
    }

    /// <summary>Runs worker <paramref name="worker"/>'s queued control work. Called by that worker between packets.</summary>
    public void RunPending(int worker)
    {
        if (!Volatile.Read(ref _pending[worker])) return;
        Volatile.Write(ref _pending[worker], false); // cleared before draining: an item enqueued meanwhile sets it again
        while (_queues[worker].TryDequeue(out var work)) work();
    }

    /// <summary>
    /// Queues <paramref name="work"/> for worker <paramref name="worker"/> without waiting for it (connection sync applies
    /// peers' records this way); a worker not attached runs it inline here.
    /// </summary>
    public void Post(int worker, Action work)
    {
        if (!Volatile.Read(ref _attached[worker]))
        {
            lock (_inlineGate) work();
            return;
        }
        _queues[worker].Enqueue(work);
        Volatile.Write(ref _pending[worker], true);
        if (!Volatile.Read(ref _attached[worker])) RunPending(worker); // detached meanwhile
    }

    /// <summary>
    /// Runs <paramref name="f"/> on every worker's thread between packets, with that worker's context, and returns the
    /// results in worker order. A worker not attached runs it inline here.
    /// </summary>
    /// <exception cref="WorkerTimeoutException">A worker did not answer within <see cref="Timeout"/>.</exception>
    public T[] Run<TContext, T>(IReadOnlyList<TContext> contexts, Func<TContext, T> f)
    {
        ArgumentOutOfRangeException.ThrowIfNotEqual(contexts.Count, _queues.Length);
        var results = new T[contexts.Count];
        var tasks = new List<(int W, Task<T> Task)>();
        for (int w = 0; w < contexts.Count; w++)
        {
            var ctx = contexts[w];
            if (!Volatile.Read(ref _attached[w]))
            {
                lock (_inlineGate) results[w] = f(ctx);
                continue;
            }
            var tcs = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
            _queues[w].Enqueue(() =>
            {
                try { tcs.SetResult(f(ctx)); }
                catch (Exception e) { tcs.SetException(e); }
            });
            Volatile.Write(ref _pending[w], true);
            if (!Volatile.Read(ref _attached[w])) RunPending(w); // detached meanwhile
            tasks.Add((w, tcs.Task));
        }
        var deadline = DateTime.UtcNow + Timeout;
        foreach (var (w, task) in tasks)
        {
            var left = deadline - DateTime.UtcNow;
            if (!task.Wait(left < TimeSpan.Zero ? TimeSpan.Zero : left))
                throw new WorkerTimeoutException(w, contexts.Count, Timeout);
            results[w] = task.GetAwaiter().GetResult();
        }
        return results;
    }
}

/// <summary>A data-path worker did not run queued control work in time (the API answers 503).</summary>
public sealed class WorkerTimeoutException(int worker, int workers, TimeSpan timeout)
    : Exception($"the data-path worker{(workers > 1 ? " " + worker : "")} did not answer within {timeout.TotalSeconds:0.#} s")
{
    public int Worker { get; } = worker;
}
