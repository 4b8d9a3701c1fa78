using TunLB.Control.Api;
using TunLB.Control.Configuration;
using TunLB.Health;
using TunLB.Core.Flows;
using TunLB.Core.Model;
using TunLB.Director.Management;

namespace TunLB.Director.Health;

/// <summary>Health bookkeeping of one destination (a real server or a sorry server). Guarded by the state lock.</summary>
public sealed class RealHealth
{
    public required Destination Dest { get; init; }
    internal ServiceEntry Svc { get; set; } = null!;
    public ServiceKey ServiceKey => Svc.Key;
    public CheckSpec Spec { get; internal set; } = new();
    public int ConfiguredWeight { get; internal set; }
    public HealthStateMachine? Machine { get; internal set; }
    public CheckResult? Last { get; internal set; }
    public DateTimeOffset? LastCheck { get; internal set; }
    public DateTimeOffset LastChange { get; internal set; }
    public long Failures { get; internal set; }
    public int? DynamicWeight { get; internal set; }
    public int? AgentPercent { get; internal set; }
    public AgentAdmin Admin { get; internal set; } = AgentAdmin.Ready;
    public bool Draining { get; internal set; }
    public bool RemoveWhenIdle { get; internal set; }
    /// <summary>Put in maintenance by the operator (API, status page): weight 0 until set ready.</summary>
    public bool Maintenance { get; internal set; }
    public bool IsSorry { get; init; }
    /// <summary>Taken out because the service lost quorum and a sorry server took over (keepalived).</summary>
    public bool QuorumRemoved { get; internal set; }
    // Scheduling of checks (HealthMonitor).
    internal bool Running;
    internal DateTimeOffset NextCheck;
    internal long Generation; // bumps when the spec changes, so a result of an old check is ignored

    /// <summary>Health-wise up: no check, or the state machine says up.</summary>
    public bool Up => Machine?.Up ?? true;
    public bool Checked => Spec.Enabled && !IsSorry;
}
