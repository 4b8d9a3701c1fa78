namespace TunLB.Health;

/// <summary>Administrative state announced by an agent (HAProxy agent-check words).</summary>
public enum AgentAdmin
{
    /// <summary>The agent said nothing about it (keep the previous one).</summary>
    Unchanged,
    /// <summary>"ready": back to normal.</summary>
    Ready,
    /// <summary>"drain": weight 0, existing connections go on.</summary>
    Drain,
    /// <summary>"maint": maintenance; weight 0, existing connections go on.</summary>
    Maint,
}

/// <summary>The outcome of one check.</summary>
public sealed record CheckResult(bool Ok, string Detail, TimeSpan Duration)
{
    /// <summary>Absolute weight to use (misc_dynamic, agent "weight:N"); null = the configured weight.</summary>
    public int? Weight { get; init; }
    /// <summary>Percentage of the configured weight (agent "75%"); null = unchanged.</summary>
    public int? WeightPercent { get; init; }
    public AgentAdmin Admin { get; init; }

    public static CheckResult Fail(string detail, TimeSpan duration) => new(false, detail, duration);
    public static CheckResult Pass(string detail, TimeSpan duration) => new(true, detail, duration);
}
