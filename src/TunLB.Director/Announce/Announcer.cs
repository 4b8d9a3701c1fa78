using TunLB.Director.Management;
using TunLB.Linux;

namespace TunLB.Director.Announce;

/// <summary>
/// Keeps the announce table (<see cref="AnnounceTable"/>) in step with <see cref="AnnouncePolicy"/>: every 100 ms it
/// reads the published view, the workers' heartbeat and the drain flag, and adds or removes routes when the decision
/// changes. <see cref="Withdraw"/> takes every VIP out for good (graceful stop). Logs each change of a VIP's reason.
/// </summary>
public sealed class Announcer : IDisposable
{
    public static readonly TimeSpan Period = TimeSpan.FromMilliseconds(100);

    private readonly DirectorState _state;
    private readonly AnnounceTable _table;
    private readonly Func<long> _heartbeat;
    private readonly Func<long> _clock;
    private readonly Func<IReadOnlyCollection<TunLB.Core.Flows.IpAddress>>? _captured;
    private readonly Action<string> _log;
    private readonly AnnouncePolicy _policy = new();
    private readonly object _gate = new();
    private IReadOnlyDictionary<string, string> _withheld = new Dictionary<string, string>();
    private Timer? _timer;
    private bool _withdrawn;

    /// <param name="captured">The VIPs routed into the capture device now (only those may be announced).</param>
    public Announcer(DirectorState state, AnnounceTable table, Func<long> heartbeat, Func<long> clock, Action<string> log,
        Func<IReadOnlyCollection<TunLB.Core.Flows.IpAddress>>? captured = null)
    {
        _state = state; _table = table; _heartbeat = heartbeat; _clock = clock; _log = log; _captured = captured;
    }

    public AnnounceTable Table => _table;

    /// <summary>Decides once at once (so the ready line can tell what is announced), then every <see cref="Period"/>.</summary>
    public void Start()
    {
        Tick();
        _timer = new Timer(_ => Tick(), null, Period, Period);
    }

    /// <summary>Removes every route and stops announcing. Returns how many VIPs were withdrawn.</summary>
    public int Withdraw()
    {
        lock (_gate)
        {
            _withdrawn = true;
            int n = _table.Announced.Count;
            _table.Clear();
            Publish(_policy.Decide(_state.View, _heartbeat(), _state.Announcement.Drained, stopping: true, _clock()));
            return n;
        }
    }

    private void Tick()
    {
        if (!Monitor.TryEnter(_gate)) return; // the previous run still changes routes
        try
        {
            if (_withdrawn) return;
            var d = _policy.Decide(_state.View, _heartbeat(), _state.Announcement.Drained, stopping: false, _clock(), _captured?.Invoke(),
                _state.Sync.Synced);
            _table.Sync(d.Announce);
            Publish(d);
        }
        catch (Exception e) { _log($"tunlb director: announce: {e.Message}"); }
        finally { Monitor.Exit(_gate); }
    }

    private void Publish(AnnounceDecision d)
    {
        foreach (var (vip, why) in d.Withheld)
            if (!_withheld.TryGetValue(vip, out var before) || before != why)
                _log($"tunlb director: announce: {vip} withheld: {why}");
        _withheld = d.Withheld;
        var was = _state.Announcement.Last.Announced;
        var now = _table.Announced;
        var added = now.Except(was).ToArray();
        var gone = was.Except(now).ToArray();
        if (added.Length > 0 || gone.Length > 0)
            _state.RecordEvent(Management.EventKinds.Announce, null, null,
                string.Join("; ", new[] { added.Length > 0 ? "announced " + string.Join(", ", added) : "", gone.Length > 0 ? "withdrew " + string.Join(", ", gone) : "" }.Where(x => x.Length > 0)) +
                (_state.Announcement.Drained ? " (director drained)" : ""));
        _state.Announcement.Publish(new AnnounceStatus.Snapshot(_table.Announced.ToArray(), d.Withheld));
    }

    public void Dispose()
    {
        _timer?.Dispose();
        lock (_gate)
        {
            _withdrawn = true;
            _table.Dispose();
        }
    }
}
