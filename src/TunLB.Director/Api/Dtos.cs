using TunLB.Control.Api;
using TunLB.Core.Connections;
using TunLB.Core.Packets;
using TunLB.Director.Management;

namespace TunLB.Director.Api;

/// <summary>The published view as API DTOs (docs/operations.md). Reads the view only, never the state's working copy.</summary>
internal static class Dtos
{
    public static ServiceDto Service(ServiceView s)
    {
        var vs = s.Service;
        return new ServiceDto(s.ProtocolName, s.Key.Vip.ToString(), s.Key.Port, s.Scheduler, s.Flags,
            s.PersistenceSeconds, Validate.FormatNetmask(s.PersistencePrefix, !s.Key.Vip.IsV4), s.MhTableSize,
            new StatsDto(vs.Connections, vs.InPackets, 0, vs.InBytes, 0), Rates(s.Rates),
            s.Reals.Select(Real).ToArray(), vs.Adopted);
    }

    public static RealDto Real(RealView r)
    {
        var d = r.Dest;
        bool gue = d.Encap == EncapKind.Gue;
        return new RealDto(d.Address.ToString(), d.Port, d.Weight, d.UpperThreshold, d.LowerThreshold,
            "tunnel", gue ? "gue" : "ipip", gue ? d.GuePort : 0, gue ? (d.GueChecksum ? "csum" : "nocsum") : "",
            d.ActiveConnections, d.InactiveConnections, d.PersistentConnections,
            new StatsDto(d.Connections, d.InPackets, 0, d.InBytes, 0), Rates(r.Rates), Health(r));
    }

    public static RatesDto Rates(RateEstimator? r) => r is null ? new RatesDto(0, 0, 0, 0, 0) : new RatesDto(r.Cps, r.InPps, 0, r.InBps, 0);

    public static TimeoutsDto Timeouts(ConnTimeouts t) => new((int)(t.TcpMs / 1000), (int)(t.TcpFinMs / 1000), (int)(t.UdpMs / 1000));

    public static HealthDto? Health(RealView r)
    {
        if (r.Health is not { } h) return null;
        return new HealthDto(h.Status, h.IsSorry ? "none" : h.Spec.Describe(r.Dest.Port), h.Spec.OnFailure.ToString().ToLowerInvariant(),
            h.ConfiguredWeight, h.Admin.ToString().ToLowerInvariant(), h.Draining, h.RemoveWhenIdle, h.Suppressed, h.IsSorry,
            h.Last?.Ok, h.Last?.Detail ?? "", h.Last?.Duration.TotalSeconds ?? 0, h.LastCheck, h.LastChange, h.Failures, h.Transitions);
    }

    /// <summary>GET /api/v1/health.</summary>
    public static HealthReportDto HealthReport(DirectorView view, long pinnedPackets)
    {
        var services = view.Services.Select(s =>
        {
            var reals = s.Reals.Where(r => r.Health is not null).Select(r => new RealHealthDto(r.Dest.Address.ToString(), r.Dest.Port, r.Dest.Weight, Health(r)!)).ToList();
            if (s.StandbySorry is { } sorry)
                reals.Add(new RealHealthDto(sorry.Dest.Address.ToString(), sorry.Dest.Port, 0, Health(sorry)!));
            var sp = s.HealthSpec;
            return new ServiceHealthDto(s.ProtocolName, s.Key.Vip.ToString(), s.Key.Port, s.QuorumUp, s.LiveWeight,
                sp.Quorum, sp.Hysteresis, s.SorryActive, sp.Sorry is { } ss ? Validate.Endpoint(ss.Address, ss.Port) : null, reals);
        }).ToArray();
        return new HealthReportDto(services, pinnedPackets, view.CheckPorts);
    }
}
