using TunLB.Control.Configuration;
using TunLB.Core.Flows;
using TunLB.Core.Model;
using TunLB.Core.Packets;

namespace TunLB.Director.Management;

/// <summary>A running service as the reload planner needs it: settings only, no runtime objects.</summary>
public sealed record CurrentService(ServiceKey Key, string Scheduler, string[] Flags, int MhTableSize, int PersistenceSeconds,
    int PersistencePrefix, IReadOnlyList<CurrentReal> Reals);

/// <summary>A running real server (not a sorry server) as the reload planner needs it.</summary>
public sealed record CurrentReal(IpAddress Address, ushort Port, int ConfiguredWeight, int UpperThreshold, int LowerThreshold,
    EncapKind Encap, ushort GuePort, bool GueChecksum);

/// <summary>What a reload changes, decided before anything is touched (<see cref="ReloadPlanner"/>).</summary>
public sealed record ReloadPlan(
    IReadOnlyList<ServiceKey> DeletedServices,
    IReadOnlyList<ServicePlan> Services,
    (int Tcp, int TcpFin, int Udp)? Timeouts,
    IReadOnlyList<string> Notes)
{
    /// <summary>Addresses of reals that are new (their route must be resolved before the plan is applied).</summary>
    public IEnumerable<(IpAddress Address, int Line)> NewReals =>
        Services.SelectMany(s => s.Reals).Where(r => r.IsNew).Select(r => (r.Definition.Address, r.Line));
}

/// <summary>One service of the new file: new, or kept with the listed differences.</summary>
public sealed record ServicePlan(
    ServiceConfig Config,
    bool IsNew,
    IReadOnlyList<RealPlan> Reals,
    IReadOnlyList<(IpAddress Address, ushort Port)> DeletedReals,
    bool SetChanged,
    bool SchedulerChanged,
    IReadOnlyList<string> ServiceChanges);

/// <summary>One real of a planned service: new, or kept with the listed differences (texts for the reload summary).</summary>
public sealed record RealPlan(RealServerSettings Definition, int Line, bool IsNew, bool WeightChanged, bool ThresholdsChanged,
    bool TunnelChanged, IReadOnlyList<string> Changes);
