using TunLB.Health;

namespace TunLB.Control.Configuration;

// Health-check additions to the configuration records (kept in this file so the main records stay untouched).

public sealed partial record DirectorSettings
{
    /// <summary>Source ports reserved for health checks through the tunnel, inclusive ("61000-61999").</summary>
    public ushort CheckPortFirst { get; init; } = 61000;
    public ushort CheckPortLast { get; init; } = 61999;
    public string CheckPortRange => $"{CheckPortFirst}-{CheckPortLast}";
}

public sealed partial record ServiceConfig
{
    /// <summary>[service.check], per-real checks, [service.sorry], quorum and hysteresis.</summary>
    public ServiceHealthSpec Health { get; init; } = ServiceHealthSpec.None;
}

public sealed partial record RealServerConfig
{
    /// <summary>TCP port of the agent-check server; 0 = off.</summary>
    public int AgentPort { get; init; }
    /// <summary>Where the agent state (ready / drain / maint) is kept.</summary>
    public string AgentStateFile { get; init; } = DefaultAgentStateFile;
    /// <summary>Address the agent-check server listens on.</summary>
    public string AgentListen { get; init; } = "0.0.0.0";

    public const string DefaultAgentStateFile = "/run/tunlb/agent-state";
}
