namespace TunLB.Health;

/// <summary>A state change decided by <see cref="HealthStateMachine.Observe"/>.</summary>
public readonly record struct HealthTransition(bool Up, string Reason);

/// <summary>
/// Rise/fall state of one real server (HAProxy semantics, keepalived's alpha), with an optional flap dampener.
/// Pure: results and times go in, transitions come out; no clock, no I/O, not thread-safe (one owner).
/// <list type="bullet">
/// <item>Starts up (or down with <c>alpha</c>). Up: <c>fall</c> consecutive failures make it down. Down:
/// <c>rise</c> consecutive successes make it up.</item>
/// <item>Dampening: each transition adds the penalty; the penalty decays exponentially with the half-life; above
/// <c>suppress</c> an up-transition is withheld (the server stays down, reason "suppressed") until the penalty
/// is back under <c>reuse</c>. Down-transitions are never withheld.</item>
/// </list>
/// </summary>
public sealed class HealthStateMachine
{
    private readonly DampeningSpec? _damp;
    private double _penalty;
    private DateTimeOffset _penaltyAt;

    public HealthStateMachine(int rise, int fall, bool alpha, DampeningSpec? dampening, DateTimeOffset now)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rise, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(fall, 1);
        Rise = rise; Fall = fall; _damp = dampening;
        Up = !alpha;
        LastChange = now;
        _penaltyAt = now;
    }

    public int Rise { get; private set; }
    public int Fall { get; private set; }
    public bool Up { get; private set; }
    /// <summary>Consecutive successes (while down) or failures (while up) toward the next transition.</summary>
    public int Successes { get; private set; }
    public int Failures { get; private set; }
    /// <summary>True while up-transitions are withheld by the dampener.</summary>
    public bool Suppressed { get; private set; }
    public DateTimeOffset LastChange { get; private set; }
    public long Transitions { get; private set; }

    /// <summary>The decayed flap penalty at <paramref name="now"/> (0 without dampening).</summary>
    public double Penalty(DateTimeOffset now)
    {
        if (_damp is null || _penalty == 0) return 0;
        double dt = Math.Max(0, (now - _penaltyAt).TotalSeconds);
        return _penalty * Math.Pow(0.5, dt / _damp.HalfLifeSeconds);
    }

    /// <summary>Takes new rise/fall values (a reload) without losing the state.</summary>
    public void Retune(int rise, int fall)
    {
        Rise = Math.Max(1, rise); Fall = Math.Max(1, fall);
    }

    /// <summary>Feeds one check result; returns the transition it causes, if any.</summary>
    public HealthTransition? Observe(bool ok, DateTimeOffset now)
    {
        if (_damp is not null && Suppressed && Penalty(now) < _damp.Reuse) Suppressed = false;
        if (Up)
        {
            if (ok) { Failures = 0; return null; }
            if (++Failures < Fall) return null;
            return Change(false, now, $"{Failures}/{Fall} failures");
        }
        if (!ok) { Successes = 0; return null; }
        if (Successes < Rise) Successes++;
        if (Successes < Rise) return null;
        if (Suppressed) return null;
        return Change(true, now, $"{Successes}/{Rise} successes");
    }

    /// <summary>A reason why an up-transition is being withheld, or null.</summary>
    public string? SuppressionReason(DateTimeOffset now) =>
        Suppressed && !Up && Successes >= Rise ? $"flapping: penalty {Penalty(now):0} above reuse {_damp!.Reuse:0}" : null;

    /// <summary>Forces a state (operator action or reload); counts as a transition for the dampener.</summary>
    public HealthTransition? Force(bool up, DateTimeOffset now, string reason) => up == Up ? null : Change(up, now, reason);

    private HealthTransition Change(bool up, DateTimeOffset now, string reason)
    {
        Up = up;
        Successes = 0;
        Failures = 0;
        LastChange = now;
        Transitions++;
        if (_damp is not null)
        {
            _penalty = Penalty(now) + _damp.Penalty;
            _penaltyAt = now;
            if (_penalty >= _damp.Suppress) Suppressed = true;
        }
        return new HealthTransition(up, reason);
    }
}
