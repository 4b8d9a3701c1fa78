namespace TunLB.Director.Tests;

/// <summary>A clock the tests move by hand.</summary>
internal sealed class FakeTime : TimeProvider
{
    public DateTimeOffset Now = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    public override DateTimeOffset GetUtcNow() => Now;
    public void Advance(double seconds) => Now = Now.AddSeconds(seconds);
}
