using TunLB.Health;

namespace TunLB.Director.Health;

/// <summary>Health state of one service: spec, quorum, sorry server.</summary>
internal sealed class ServiceHealthState
{
    public ServiceHealthSpec Spec = ServiceHealthSpec.None;
    public bool QuorumUp = true;
    public RealHealth? Sorry;
    public bool SorryActive;
}
