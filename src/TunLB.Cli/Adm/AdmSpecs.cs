using TunLB.Control.Api;

namespace TunLB.Cli.Adm;

/// <summary>
/// Turns a parsed command into API request bodies, with ipvsadm's defaults. Like ipvsadm (whose edit
/// commands send a complete service or destination to the kernel), -E and -e set every field an
/// ipvsadm command line can carry: what is not given falls back to the default, not to the old value.
/// </summary>
public static class AdmSpecs
{
    public const string DefaultScheduler = "wlc";

    public static string DefaultNetmask(AdmService service) => service.IsV6 ? "128" : "255.255.255.255";

    /// <summary>Body for POST /services (-A) or, with <paramref name="create"/> false, PUT /services/... (-E).</summary>
    public static ServiceSpec Service(AdmRequest r, bool create)
    {
        var svc = r.Service ?? throw new ArgumentException("the request has no service", nameof(r));
        return new ServiceSpec(
            Protocol: create ? svc.Protocol : null,
            Vip: create ? svc.Vip : null,
            Port: create ? svc.Port : null,
            Scheduler: r.Scheduler is { Length: > 0 } s ? s : DefaultScheduler,
            Flags: r.SchedFlags ?? [],
            Persistence: r.Persistence ?? 0,
            PersistenceNetmask: r.Netmask ?? DefaultNetmask(svc));
    }

    /// <summary>Body for POST .../reals (-a) or, with <paramref name="create"/> false, PUT .../reals/... (-e).</summary>
    public static RealSpec Real(AdmRequest r, bool create)
    {
        var address = r.RealAddress ?? throw new ArgumentException("the request has no real server", nameof(r));
        var tunType = r.TunType ?? "ipip";
        return new RealSpec(
            Address: create ? address.ToString() : null,
            Port: create ? r.RealPort : null,
            Weight: r.Weight ?? 1,
            UpperThreshold: r.UpperThreshold ?? 0,
            LowerThreshold: r.LowerThreshold ?? 0,
            TunType: tunType,
            TunPort: tunType == "gue" ? r.TunPort : null,
            TunFlags: tunType == "gue" ? r.TunFlags ?? "nocsum" : null);
    }

    public static ZeroSpec? Zero(AdmRequest r) =>
        r.Service is { } s ? new ZeroSpec(s.Protocol, s.Vip, s.Port) : null;

    public static TimeoutsDto Timeouts(AdmRequest r) => new(r.TimeoutTcp, r.TimeoutTcpFin, r.TimeoutUdp);
}
