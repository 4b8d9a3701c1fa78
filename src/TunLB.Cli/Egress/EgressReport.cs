using System.Text;
using TunLB.Core.Egress;

namespace TunLB.Cli.Egress;

/// <summary>The inputs of a report besides the verdict.</summary>
public sealed record EgressCheckContext(
    string Vip, string RealServer, string Target, string Session, int MaxHops, int ProbesPerHop, double Rate,
    int ProbesSent, int HopsProbed, string Listener, string? ListenerError, DateTimeOffset When);

public sealed record EgressHopDto(int Hop, IReadOnlyList<string> Vip, IReadOnlyList<string> Control);

/// <summary>`tunlb egress-check --json` output.</summary>
public sealed record EgressCheckResultDto(
    string Verdict,            // "allowed" | "blocked" | "inconclusive"
    int ExitCode,
    string Summary,            // the one-line verdict as printed
    string Reason,
    string Vip, string RealServer, string Target, string Session,
    int? Hops,                 // allowed: hop at which the target answered the VIP series
    int? BlockingHop, string? BlockingRouter,
    int LastVipHop, string? LastVipRouter,
    int? ControlTargetHop,
    int ProbesSent, int HopsProbed, int MaxHops, int ProbesPerHop, double Rate,
    string Listener, string? ListenerError,
    IReadOnlyList<EgressHopDto> Path,
    string? ProviderRequest);

/// <summary>Turns an <see cref="EgressResult"/> into the text, JSON and provider-facing outputs of `tunlb egress-check`.</summary>
public static class EgressReport
{
    public static string Summary(EgressResult r) => r.Kind switch
    {
        EgressVerdictKind.Allowed => $"ALLOWED ({r.Hops} hops)",
        EgressVerdictKind.Blocked => $"BLOCKED AT HOP {r.BlockingHop} ({EgressVerdict.Fmt(r.BlockingRouter)})",
        _ => "INCONCLUSIVE",
    };

    public static EgressCheckResultDto ToDto(EgressResult r, EgressCheckContext c) => new(
        r.Kind.ToString().ToLowerInvariant(), r.ExitCode, Summary(r), r.Reason, c.Vip, c.RealServer, c.Target, c.Session,
        r.Kind == EgressVerdictKind.Allowed ? r.Hops : null,
        r.Kind == EgressVerdictKind.Blocked ? r.BlockingHop : null,
        r.Kind == EgressVerdictKind.Blocked ? EgressVerdict.Fmt(r.BlockingRouter) : null,
        r.LastVipHop, r.LastVipHop > 0 ? EgressVerdict.Fmt(r.LastVipRouter) : null,
        r.ControlTargetHop > 0 ? r.ControlTargetHop : null,
        c.ProbesSent, c.HopsProbed, c.MaxHops, c.ProbesPerHop, c.Rate, c.Listener, c.ListenerError,
        r.Table.Select(h => new EgressHopDto(h.Ttl, h.VipFrom.Select(EgressVerdict.Fmt).ToList(), h.ControlFrom.Select(EgressVerdict.Fmt).ToList())).ToList(),
        r.Kind == EgressVerdictKind.Blocked ? ProviderRequest(r, c) : null);

    /// <summary>The human-readable report: path table, verdict, reason, and for Blocked the request to the provider.</summary>
    public static string Text(EgressResult r, EgressCheckContext c)
    {
        var sb = new StringBuilder();
        sb.AppendLine($"egress check: VIP {c.Vip} from real server {c.RealServer} toward {c.Target} (session {c.Session})");
        sb.AppendLine($"  {c.ProbesSent} probes sent over {c.HopsProbed} hops ({c.ProbesPerHop} per hop and series, {c.Rate:0.##}/s); VIP answers from {c.Listener}");
        if (c.ListenerError is not null) sb.AppendLine($"  listener error: {c.ListenerError}");
        sb.AppendLine();
        sb.AppendLine("  hop  VIP series (answers at the director)   control series (answers here)");
        foreach (var h in r.Table)
            sb.AppendLine($"  {h.Ttl,3}  {Cell(h.VipFrom),-38} {Cell(h.ControlFrom)}");
        if (r.Table.Count == 0) sb.AppendLine("       (no answers at all)");
        sb.AppendLine();
        sb.AppendLine(Summary(r));
        sb.AppendLine($"  {r.Reason}");
        if (r.Kind == EgressVerdictKind.Blocked)
        {
            sb.AppendLine();
            sb.AppendLine("Request to send to the provider:");
            sb.AppendLine();
            foreach (var line in ProviderRequest(r, c).Split('\n')) sb.AppendLine("  " + line);
        }
        return sb.ToString();
    }

    private static string Cell(IReadOnlyList<uint> from) => from.Count == 0 ? "*" : string.Join(" ", from.Select(EgressVerdict.Fmt));

    /// <summary>A short, factual request asking the provider to let the VIP out from the real server.</summary>
    public static string ProviderRequest(EgressResult r, EgressCheckContext c)
    {
        string router = EgressVerdict.Fmt(r.BlockingRouter);
        string passed = r.LastVipHop > 0
            ? $"VIP-sourced probes were answered up to hop {r.LastVipHop} ({EgressVerdict.Fmt(r.LastVipRouter)}) and not beyond"
            : "no VIP-sourced probe was answered, not even by the first router";
        return $"""
            Subject: please allow source address {c.Vip} from our server {c.RealServer}

            Our server {c.RealServer} is a real server behind an LVS-TUN load balancer (direct server return).
            Clients connect to the service address {c.Vip}, which our load balancer announces and receives.
            It forwards each request to {c.RealServer} in an IP-in-IP tunnel, and {c.RealServer} answers the client
            directly with {c.Vip} as the source address. These replies belong to connections that clients opened
            to {c.Vip}; they are not spoofed traffic.

            Your network drops packets from {c.RealServer} whose source is {c.Vip} (source address validation,
            BCP 38 / uRPF). Please add {c.Vip}/32 as a permitted source for our port/uplink of {c.RealServer}.

            Evidence ({c.When:yyyy-MM-dd HH:mm} UTC, traceroute-style UDP probes to {c.Target}, TTL 1..{c.HopsProbed}):
            - probes with source {c.RealServer} reach {c.Target} (hop {r.ControlTargetHop});
            - identical probes with source {c.Vip}: {passed};
            - hop {r.BlockingHop} ({router}) answers the probes from {c.RealServer} but not those from {c.Vip},
              so they are dropped at or before hop {r.BlockingHop}.
            """.Replace("\r", "");
    }
}
