namespace TunLB.Control.Egress;

/// <summary>
/// One item of <c>GET /api/v1/egress</c>: a configured real server, its metadata and its last reported egress result
/// (the result fields are null until one is reported). One item per real-server address, sorted by site then address.
/// </summary>
/// <param name="Real">The real server's address.</param>
/// <param name="Site">The <c>site</c> key of its <c>[[service.real]]</c> table (null when not set).</param>
/// <param name="Provider">The <c>provider</c> key (null when not set).</param>
/// <param name="Verdict">"allowed", "blocked", "inconclusive", or null when no result was reported yet.</param>
/// <param name="Summary">The verdict line.</param>
/// <param name="Vip">The VIP checked.</param>
/// <param name="Target">The probed address.</param>
/// <param name="BlockingHop">For blocked: the hop number.</param>
/// <param name="BlockingRouter">For blocked: the router at that hop.</param>
/// <param name="FilterLocation">For blocked: the localisation sentence.</param>
/// <param name="Time">When the check finished (UTC, as reported).</param>
/// <param name="ReceivedAt">When the director received it (UTC).</param>
public sealed record EgressRealResult(
    string Real, string? Site, string? Provider, string? Verdict, string? Summary, string? Vip, string? Target,
    int? BlockingHop, string? BlockingRouter, string? FilterLocation, DateTimeOffset? Time, DateTimeOffset? ReceivedAt);
