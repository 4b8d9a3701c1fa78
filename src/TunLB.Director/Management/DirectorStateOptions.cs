using TunLB.Core.Flows;

namespace TunLB.Director.Management;

/// <summary>Injected dependencies of <see cref="DirectorState"/>; the defaults need no host access.</summary>
public sealed class DirectorStateOptions
{
    /// <summary>The director's source address toward a real server (outer IPIP source). Throws when there is no route.</summary>
    public Func<IpAddress, IpAddress> OuterSource { get; init; } = _ => default;
    /// <summary>Informational lines (stdout in the daemon).</summary>
    public Action<string> Log { get; init; } = _ => { };
    /// <summary>Error lines (stderr in the daemon).</summary>
    public Action<string> LogError { get; init; } = _ => { };
    /// <summary>The data path's clock (ms); used for expiry times in connection listings.</summary>
    public Func<long> Clock { get; init; } = () => Environment.TickCount64;
    /// <summary>How long a control request waits for the worker thread.</summary>
    public TimeSpan WorkerTimeout { get; init; } = TimeSpan.FromSeconds(5);
    /// <summary>Path MTU toward a real server (0 = unknown: no check). Used when a real has no configured mtu.</summary>
    public Func<IpAddress, int> PathMtu { get; init; } = _ => 0;
    /// <summary>Hash seed for the engine; null = random.</summary>
    public ulong? HashSeed { get; init; }
    /// <summary>Runs a quorum hook (command, reason); null = sh -c. A config check passes a no-op: it changes nothing.</summary>
    public Action<string, string>? RunHook { get; init; }
    /// <summary>The health-check clock (UTC).</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;
    /// <summary>Where health transitions, drains, reloads and the like are recorded (GET /api/v1/events).</summary>
    public EventLog Events { get; init; } = new();
}
