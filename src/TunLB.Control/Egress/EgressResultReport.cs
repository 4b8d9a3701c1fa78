namespace TunLB.Control.Egress;

/// <summary>
/// One egress-check result as a real server reports it to the director: <c>POST /api/v1/egress/results</c> (JSON,
/// snake_case). Sent by the real-server agent's schedule (<c>[egress]</c> in realserver.toml) or by
/// <c>tunlb egress-check --post</c>. Documented in docs/egress-check.md.
/// </summary>
/// <param name="Real">The real server's address as the director's config names it (<c>[[service.real]] address</c>).</param>
/// <param name="Vip">The VIP that was checked.</param>
/// <param name="Target">The probed address.</param>
/// <param name="Verdict">"allowed", "blocked" or "inconclusive".</param>
/// <param name="Summary">The verdict line, e.g. "BLOCKED AT HOP 1 (192.0.2.129)".</param>
/// <param name="BlockingHop">For blocked: the hop that answered only the real server's own probes.</param>
/// <param name="BlockingRouter">For blocked: that hop's router.</param>
/// <param name="FilterLocation">For blocked: where the filter can be ("at or after hop L ... at or before hop k ...").</param>
/// <param name="Time">When the check finished (UTC).</param>
public sealed record EgressResultReport(
    string Real, string Vip, string Target, string Verdict, string Summary,
    int? BlockingHop = null, string? BlockingRouter = null, string? FilterLocation = null, DateTimeOffset? Time = null);
