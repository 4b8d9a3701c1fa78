using TunLB.Control.Configuration;

namespace TunLB.Cli.Adm;

/// <summary>
/// TunLB's --check / --no-check: a health check given as words ("http path=/health interval=2 fall=3", the keys of a
/// [service.check] table), checked here with the config file's rules and sent to PUT .../check.
/// </summary>
internal static class AdmCheck
{
    /// <summary>The first problem with <paramref name="words"/>, or null. The director checks again with the service's check as defaults.</summary>
    public static string? Problem(string words, string protocol)
    {
        IReadOnlyList<KeyValuePair<string, string>> values;
        try { values = CheckRules.FromWords(words); }
        catch (FormatException e) { return e.Message; }
        // A real's check may leave the type to the service's; the director enforces the rest.
        var defaults = new TunLB.Health.CheckSpec { Type = values.Any(v => v.Key == "type") ? "none" : "tcp" };
        var r = CheckRules.Check(values, defaults, protocol);
        return r.Ok ? null : string.Join("; ", r.Errors);
    }

    /// <summary>
    /// -E/-e with --check or --no-check and no option of its own: only the check changes (an ipvsadm -e would reset the
    /// weight to 1 and the thresholds to 0, which a check change must not do).
    /// </summary>
    public static bool Only(AdmRequest r) => (r.Check is not null || r.NoCheck) && (r.Command == AdmCommandKind.EditServer
        ? r.Weight is null && r.UpperThreshold is null && r.LowerThreshold is null && r.TunType is null && r.TunPort is null && r.TunFlags is null && r.Drain is null
        : r.Scheduler is null && r.SchedFlags is null && r.Persistence is null && r.Netmask is null);

    /// <summary>Sends the request's --check or --no-check, if any, for its service (no -r) or real server.</summary>
    public static void Apply(AdmClient client, AdmRequest r)
    {
        if (r.Check is null && !r.NoCheck) return;
        var path = r.RealAddress is null ? AdmClient.ServicePath(r.Service!) : AdmClient.RealPath(r.Service!, r.RealAddress, r.RealPort!.Value);
        client.SetCheck(path, r.Check is null ? null : CheckRules.WordsToJson(r.Check));
    }
}
