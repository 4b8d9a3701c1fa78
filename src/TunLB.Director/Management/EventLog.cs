namespace TunLB.Director.Management;

/// <summary>One thing that happened to the director, as the event log keeps it.</summary>
/// <param name="Id">Monotonic from 1; ids are never reused, so a client asks for what came after the last it saw.</param>
/// <param name="Kind">One of <see cref="EventKinds"/>.</param>
/// <param name="Service">"vip:port/proto", or null when the event is not about one service.</param>
/// <param name="Real">"addr:port", or null when the event is not about one real server.</param>
public sealed record DirectorEvent(long Id, DateTimeOffset Time, string Kind, string? Service, string? Real, string Message);

/// <summary>The kinds of <see cref="DirectorEvent"/>.</summary>
public static class EventKinds
{
    public const string Health = "health", Drain = "drain", Weight = "weight", Reload = "reload", Quorum = "quorum",
        Maintenance = "maintenance", Announce = "announce", Director = "director", Sync = "sync";

    /// <summary>"203.0.113.10:80/tcp", as events name a service.</summary>
    public static string ServiceName(TunLB.Core.Model.ServiceKey k) => $"{Format.Endpoint(k.Vip, k.Port)}/{Format.ProtocolName(k.Protocol)}";

    /// <summary>"192.0.2.11:80", as events name a real server.</summary>
    public static string RealName(TunLB.Core.Flows.IpAddress address, ushort port) => Format.Endpoint(address, port);
}

/// <summary>
/// The last <see cref="Capacity"/> events in memory (a ring: the oldest go first), with monotonic ids. Writers are the
/// control plane's operations (time passed in); readers are GET /api/v1/events and its stream, which wait with
/// <see cref="WaitAsync"/>. Its own small lock: recording never takes the state lock and never does I/O.
/// </summary>
public sealed class EventLog
{
    public const int DefaultCapacity = 1000;

    private readonly DirectorEvent[] _ring;
    private readonly object _gate = new();
    private long _next = 1;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public EventLog(int capacity = DefaultCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _ring = new DirectorEvent[capacity];
    }

    public int Capacity => _ring.Length;

    /// <summary>The id the next event will get (so "since = Next - 1" asks for nothing old).</summary>
    public long Next { get { lock (_gate) return _next; } }

    /// <summary>Records one event and wakes the waiting readers. Service and real are null when not about one.</summary>
    public DirectorEvent Record(DateTimeOffset time, string kind, string? service, string? real, string message)
    {
        ArgumentNullException.ThrowIfNull(kind);
        ArgumentNullException.ThrowIfNull(message);
        TaskCompletionSource wake;
        DirectorEvent e;
        lock (_gate)
        {
            e = new DirectorEvent(_next, time, kind, service, real, message);
            _ring[(int)((_next - 1) % _ring.Length)] = e;
            _next++;
            wake = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        wake.TrySetResult();
        return e;
    }

    /// <summary>
    /// Events with an id above <paramref name="since"/> still in the ring, oldest first, at most <paramref name="max"/>;
    /// and the id to ask "since" next time (the last returned, or <paramref name="since"/> when none).
    /// </summary>
    public (IReadOnlyList<DirectorEvent> Events, long Last) Since(long since, int max = int.MaxValue)
    {
        lock (_gate)
        {
            long first = Math.Max(since + 1, Math.Max(1, _next - _ring.Length));
            var list = new List<DirectorEvent>((int)Math.Clamp(_next - first, 0, Math.Min(max, _ring.Length)));
            for (long id = first; id < _next && list.Count < max; id++) list.Add(_ring[(int)((id - 1) % _ring.Length)]);
            return (list, list.Count > 0 ? list[^1].Id : Math.Min(since, _next - 1));
        }
    }

    /// <summary>Completes when an event with an id above <paramref name="since"/> exists (at once if one does).</summary>
    public Task WaitAsync(long since, CancellationToken ct)
    {
        Task t;
        lock (_gate)
        {
            if (_next - 1 > since) return Task.CompletedTask;
            t = _changed.Task;
        }
        return t.WaitAsync(ct);
    }
}
