using TunLB.Control.Configuration;
using TunLB.Health;
using TunLB.Core.Flows;
using TunLB.Core.Model;

namespace TunLB.Director.Management;

/// <summary>
/// What the director runs, as one immutable object built at each change and swapped in whole (as YARP's state):
/// the API, <c>/metrics</c> and the config renderer read it without the state lock. Counters and rates are read live
/// through the <see cref="VirtualService"/> and <see cref="Destination"/> objects it points to.
/// </summary>
public sealed class DirectorView
{
    public required IReadOnlyList<ServiceView> Services { get; init; }
    public required IReadOnlyList<IpAddress> Vips { get; init; }
    public required DirectorSettings Settings { get; init; }
    /// <summary>Bumped by every publish.</summary>
    public required long Version { get; init; }
    /// <summary>The health checks' source port range as in use ("first-last"), or the setting with "(not in use)".</summary>
    public required string CheckPorts { get; init; }

    public ServiceView? Find(ServiceKey key)
    {
        foreach (var s in Services) if (s.Key == key) return s;
        return null;
    }
}

/// <summary>One virtual service as published.</summary>
public sealed class ServiceView
{
    public required ServiceKey Key { get; init; }
    public required string Scheduler { get; init; }
    public required string[] Flags { get; init; }
    public required int MhTableSize { get; init; }
    public required int PersistenceSeconds { get; init; }
    public required int PersistencePrefix { get; init; }
    /// <summary>The data path's version of this service (its counters are live).</summary>
    public required VirtualService Service { get; init; }
    public required RateEstimator Rates { get; init; }
    public required ServiceHealthSpec HealthSpec { get; init; }
    public required bool QuorumUp { get; init; }
    public required int LiveWeight { get; init; }
    public required bool SorryActive { get; init; }
    /// <summary>The reals the data path schedules to, in order (an active sorry server included).</summary>
    public required IReadOnlyList<RealView> Reals { get; init; }
    /// <summary>A sorry server kept aside while the service has quorum (not in <see cref="Reals"/>).</summary>
    public required RealView? StandbySorry { get; init; }

    public string ProtocolName => Format.ProtocolName(Key.Protocol);

    public RealView? FindReal(IpAddress address, ushort port)
    {
        foreach (var r in Reals) if (r.Dest.Address == address && r.Dest.Port == port) return r;
        return null;
    }

    public override string ToString() => $"{ProtocolName} {Format.Endpoint(Key.Vip, Key.Port)}";
}

/// <summary>One real (or sorry) server as published.</summary>
public sealed class RealView
{
    /// <summary>The data path's destination: identity, effective weight and live counters.</summary>
    public required Destination Dest { get; init; }
    /// <summary>The weight from the file or the API (<see cref="Destination.Weight"/> is the effective one).</summary>
    public required int ConfiguredWeight { get; init; }
    public required RateEstimator? Rates { get; init; }
    /// <summary>Null when the real is not tracked (never for reals of a service).</summary>
    public required RealHealthView? Health { get; init; }
    public bool IsSorry => Health?.IsSorry ?? false;
}

/// <summary>A real's health as published (copied from its bookkeeping at publish time).</summary>
public sealed record RealHealthView(
    string Status, CheckSpec Spec, int ConfiguredWeight, AgentAdmin Admin, bool Draining, bool RemoveWhenIdle,
    bool Suppressed, bool IsSorry, bool Up, CheckResult? Last, DateTimeOffset? LastCheck, DateTimeOffset LastChange,
    long Failures, long Transitions, bool Maintenance = false);
