using TunLB.Control.Api;
using TunLB.Control.Egress;
using TunLB.Core.Flows;
using TunLB.Director.Management;

namespace TunLB.Director.Api;

/// <summary>
/// <c>GET /api/v1/egress</c> (per real server: site, provider, last egress verdict and time) and
/// <c>POST /api/v1/egress/results</c> (a real server reports a result). See docs/egress-check.md.
/// </summary>
public static class EgressResultsApi
{
    public const string Path = "/api/v1/egress";
    public const string ResultsPath = "/api/v1/egress/results";

    /// <summary>Every real server of every service (an active or standby sorry server included), once.</summary>
    private static List<IpAddress> Reals(DirectorView v)
    {
        var list = new List<IpAddress>();
        foreach (var s in v.Services)
        {
            foreach (var r in s.Reals) list.Add(r.Dest.Address);
            if (s.StandbySorry is { } sorry) list.Add(sorry.Dest.Address);
        }
        return list.Distinct().ToList();
    }

    public static List<EgressRealResult> Get(DirectorState state) => state.EgressResults.Snapshot(Reals(state.View));

    /// <summary>201 with the stored item, or 400 with every error.</summary>
    public static (int Status, object Body) Post(DirectorState state, EgressResultReport? report, DateTimeOffset now)
    {
        var reals = Reals(state.View);
        var errors = state.EgressResults.Report(report, now, reals);
        if (errors is not null)
            return (400, errors.Count == 1 ? errors[0] : new ErrorDto("invalid egress result", null, errors.Select(e => $"{e.Field}: {e.Error}").ToList()));
        var item = state.EgressResults.Snapshot(reals).First(x => x.Real == TunLB.Core.Flows.IpAddress.Parse(report!.Real).ToString());
        return (201, item);
    }
}
