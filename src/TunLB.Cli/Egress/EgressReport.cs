using System.Text;
using TunLB.Cli.Isp;
using TunLB.Core.Egress;
using TunLB.Core.Flows;

namespace TunLB.Cli.Egress;

/// <summary>The inputs of a report besides the verdict.</summary>
public sealed record EgressCheckContext(
    string Vip, string RealServer, string Target, string Session, int MaxHops, int ProbesPerHop, double Rate,
    int ProbesSent, int HopsProbed, string Listener, string? ListenerError, DateTimeOffset When)
{
    /// <summary>What --provider named (or the real server's config metadata), and its entry in data/providers.toml if found.</summary>
    public string? ProviderName { get; init; }
    public ProviderEntry? Provider { get; init; }
    /// <summary>The real server's own source validation (<see cref="HostSourceChecks"/>); null when not checked.</summary>
    public IReadOnlyList<HostCheck>? HostChecks { get; init; }
}

/// <summary>One place the filter can be (see <see cref="EgressLocalisation"/>): hop 0 is the real server itself.</summary>
public sealed record EgressCandidateDto(int Hop, string? Router, string Place, string How);

/// <summary>What to change at the provider (BLOCKED AT HOP 1 with a known provider).</summary>
public sealed record EgressSetupHintDto(string Provider, string Ipv4, string Ipv6, string Setting, IReadOnlyList<string> Sources, string Read);

public sealed record HostCheckDto(string Name, bool? Set, string Found, string Effect);

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
    string? ProviderRequest)
{
    /// <summary>Blocked: "the filter is at or after hop L ... and at or before hop k ..." (see docs/egress-check.md).</summary>
    public string? FilterLocation { get; init; }
    public IReadOnlyList<EgressCandidateDto> FilterCandidates { get; init; } = [];
    public EgressSetupHintDto? SetupHint { get; init; }
    public IReadOnlyList<HostCheckDto>? HostChecks { get; init; }
}

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
        r.Kind == EgressVerdictKind.Blocked ? ProviderRequest(r, c) : null)
    {
        FilterLocation = r.Kind == EgressVerdictKind.Blocked ? EgressLocalisation.Range(r) : null,
        FilterCandidates = r.Candidates.Select(x => new EgressCandidateDto(x.Hop, x.Router == default ? null : EgressVerdict.Fmt(x.Router),
            PlaceName(x.Place), x.Describe())).ToList(),
        SetupHint = Hint(r, c) is { } p ? new EgressSetupHintDto(p.Name, ProviderCatalog.SupportName(p.Ipv4), ProviderCatalog.SupportName(p.Ipv6), p.Setting, p.Sources, p.Read) : null,
        HostChecks = c.HostChecks?.Select(h => new HostCheckDto(h.Name, h.IsSet, h.Found, h.Effect)).ToList(),
    };

    private static string PlaceName(EgressFilterPlace p) => p switch
    {
        EgressFilterPlace.RealServer => "real-server",
        EgressFilterPlace.ForwardPath => "forward-path",
        EgressFilterPlace.SilentHop => "silent-hop",
        _ => "input",
    };

    /// <summary>The provider entry to print setup hints from: blocked at hop 1 (the provider's own edge) and the provider known.</summary>
    public static ProviderEntry? Hint(EgressResult r, EgressCheckContext c) =>
        r.Kind == EgressVerdictKind.Blocked && r.BlockingHop == 1 ? c.Provider : null;

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
            sb.AppendLine($"  {EgressLocalisation.Range(r)}:");
            foreach (var x in r.Candidates)
                sb.AppendLine($"    {(x.Hop == 0 ? "  -" : $"hop {x.Hop}"),-7} {(x.Router == default ? "" : EgressVerdict.Fmt(x.Router)),-16} {x.Describe()}");
            if (Hint(r, c) is { } p)
            {
                sb.AppendLine();
                sb.AppendLine($"What to change at {p.Name} (data/providers.toml; IPv4: {ProviderCatalog.SupportName(p.Ipv4)}, IPv6: {ProviderCatalog.SupportName(p.Ipv6)}):");
                sb.AppendLine($"  {p.Setting}");
                foreach (var u in p.Sources) sb.AppendLine($"  source: {u}");
                sb.AppendLine($"  read: {p.Read}");
            }
            else if (r.BlockingHop == 1 && c.ProviderName is not null)
                sb.AppendLine($"\n  (no entry for provider \"{c.ProviderName}\" in data/providers.toml; `tunlb isp list` shows the known ones)");
            sb.AppendLine();
            sb.AppendLine("Request to send to the provider:");
            sb.AppendLine();
            foreach (var line in ProviderRequest(r, c).Split('\n')) sb.AppendLine("  " + line);
        }
        if (c.HostChecks is not null)
        {
            sb.AppendLine();
            sb.AppendLine("The real server itself (settings that make clients' connections hang the same way; rule them out first):");
            sb.Append(HostSourceChecks.Text(c.HostChecks));
        }
        return sb.ToString();
    }

    private static string Cell(IReadOnlyList<IpAddress> from) => from.Count == 0 ? "*" : string.Join(" ", from.Select(EgressVerdict.Fmt));

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
            BCP 38 / uRPF). Please add {c.Vip}/{(c.Vip.Contains(':') ? 128 : 32)} as a permitted source for our port/uplink of {c.RealServer}.

            Evidence ({c.When:yyyy-MM-dd HH:mm} UTC, traceroute-style UDP probes to {c.Target}, TTL 1..{c.HopsProbed}):
            - probes with source {c.RealServer} reach {c.Target} (hop {r.ControlTargetHop});
            - identical probes with source {c.Vip}: {passed};
            - hop {r.BlockingHop} ({router}) answers the probes from {c.RealServer} but not those from {c.Vip},
              so they are dropped at or before hop {r.BlockingHop}.
            """.Replace("\r", "");
    }
}
