using TunLB.Core.Flows;

namespace TunLB.Director.Announce;

/// <summary>
/// What the API and the announcer share: the drain flag (set through the API or <c>tunlb adm --drain-director</c>,
/// not kept across a restart) and the announcer's last decision. Thread-safe: plain volatile fields.
/// </summary>
public sealed class AnnounceStatus
{
    private volatile bool _drained;
    private volatile Snapshot _last = new([], new Dictionary<string, string>());

    /// <summary>The VIPs in the announce table and why the others are withheld, as of the announcer's last run.</summary>
    public sealed record Snapshot(IReadOnlyList<IpAddress> Announced, IReadOnlyDictionary<string, string> Withheld);

    public bool Drained => _drained;

    public Snapshot Last => _last;

    /// <summary>Withdraws every VIP until <see cref="Undrain"/> (the data plane keeps forwarding). True when it changed.</summary>
    public bool Drain() => !SetDrained(true);

    /// <summary>Announces again what can be served. True when it changed.</summary>
    public bool Undrain() => SetDrained(false);

    private bool SetDrained(bool value)
    {
        bool was = _drained;
        _drained = value;
        return was;
    }

    internal void Publish(Snapshot s) => _last = s;
}
