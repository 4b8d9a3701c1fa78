
namespace TunLB.Health.Tests;

public sealed class HealthStateMachineTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static DateTimeOffset At(double s) => T0.AddSeconds(s);

    [Fact]
    public void StartsUpAndFallsAfterFallConsecutiveFailures()
    {
        var m = new HealthStateMachine(rise: 2, fall: 3, alpha: false, null, T0);
        Assert.True(m.Up);
        Assert.Null(m.Observe(false, At(1)));
        Assert.Null(m.Observe(false, At(2)));
        Assert.Null(m.Observe(true, At(3)));   // a success resets the count
        Assert.Null(m.Observe(false, At(4)));
        Assert.Null(m.Observe(false, At(5)));
        var t = m.Observe(false, At(6));
        Assert.Equal(new HealthTransition(false, "3/3 failures"), t);
        Assert.False(m.Up);
        Assert.Equal(At(6), m.LastChange);
    }

    [Fact]
    public void RisesAfterRiseConsecutiveSuccesses()
    {
        var m = new HealthStateMachine(2, 1, false, null, T0);
        m.Observe(false, At(1));
        Assert.False(m.Up);
        Assert.Null(m.Observe(true, At(2)));
        Assert.Null(m.Observe(false, At(3)));
        Assert.Null(m.Observe(true, At(4)));
        Assert.Equal(new HealthTransition(true, "2/2 successes"), m.Observe(true, At(5)));
        Assert.Equal(2, m.Transitions);
    }

    [Fact]
    public void AlphaStartsDownUntilProvenUp()
    {
        var m = new HealthStateMachine(3, 2, alpha: true, null, T0);
        Assert.False(m.Up);
        m.Observe(true, At(1));
        m.Observe(true, At(2));
        Assert.False(m.Up);
        Assert.True(m.Observe(true, At(3))!.Value.Up);
    }

    [Fact]
    public void DampenerSuppressesUpWhileFlappingAndReleasesAfterDecay()
    {
        // penalty 1000 per transition, suppress at 2500, reuse below 800, half-life 10 s.
        var damp = new DampeningSpec(1000, 2500, 800, 10);
        var m = new HealthStateMachine(1, 1, false, damp, T0);
        m.Observe(false, At(0));        // down: 1000
        m.Observe(true, At(1));         // up: ~1933
        m.Observe(false, At(2));        // down: ~2870 -> suppressed
        Assert.True(m.Suppressed);
        Assert.Null(m.Observe(true, At(3)));   // would rise, but suppressed
        Assert.False(m.Up);
        Assert.NotNull(m.SuppressionReason(At(3)));
        Assert.Null(m.Observe(true, At(15)));  // penalty ~1440: still suppressed
        Assert.False(m.Up);
        // After enough half-lives the penalty is below reuse: the next success brings it up.
        var t = m.Observe(true, At(30));       // ~2870 * 2^-2.8 = ~411 < 800
        Assert.NotNull(t);
        Assert.True(m.Up);
        Assert.False(m.Suppressed);
    }

    [Fact]
    public void DampenerNeverDelaysGoingDown()
    {
        var m = new HealthStateMachine(1, 1, false, new DampeningSpec(5000, 2500, 800, 60), T0);
        Assert.NotNull(m.Observe(false, At(0)));
        Assert.True(m.Suppressed);
        Assert.Null(m.Observe(true, At(1)));
        Assert.False(m.Up);
    }

    [Fact]
    public void PenaltyDecaysByHalfPerHalfLife()
    {
        var m = new HealthStateMachine(1, 1, false, new DampeningSpec(1000, 2500, 800, 10), T0);
        m.Observe(false, T0);
        Assert.Equal(1000, m.Penalty(T0), 3);
        Assert.Equal(500, m.Penalty(At(10)), 3);
        Assert.Equal(250, m.Penalty(At(20)), 3);
        Assert.Equal(0, new HealthStateMachine(1, 1, false, null, T0).Penalty(At(5)));
    }

    [Fact]
    public void RetuneKeepsTheState()
    {
        var m = new HealthStateMachine(2, 2, false, null, T0);
        m.Observe(false, At(1));
        m.Retune(2, 1);
        Assert.False(m.Observe(false, At(2))!.Value.Up);
    }
}
