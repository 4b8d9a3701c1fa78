using TunLB.Core.Flows;

namespace TunLB.Director.Sync;

/// <summary>
/// What the API, /metrics and the announcer read about connection sync: whether it is on, whether this director has
/// its peers' tables yet (<see cref="Synced"/>: the announcer withholds every VIP until then), and the counters.
/// Written by <see cref="SyncService"/>; thread-safe (volatile fields).
/// </summary>
public sealed class SyncStatus
{
    private volatile SyncService? _service;
    private volatile bool _synced = true;
    private volatile string _state = "off";

    /// <summary>True without sync, and with sync once every peer sent its table or resync_wait ran out.</summary>
    public bool Synced => _synced;

    /// <summary>"off", "waiting for N peer table(s)", "synced", "synced (resync_wait ran out: no table from ...)".</summary>
    public string State => _state;

    /// <summary>The running service (null when sync is off).</summary>
    public SyncService? Service => _service;

    internal void Attach(SyncService service) => _service = service;

    internal void Set(bool synced, string state)
    {
        _state = state;
        _synced = synced;
    }
}
