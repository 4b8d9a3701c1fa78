using TunLB.Control.Configuration;
using static TunLB.Cli.Adm.AdmOptions;

namespace TunLB.Cli.Adm;

/// <summary>ipvsadm's checks after parsing: legal option combinations, tunnel options, scheduler flags.</summary>
internal static class AdmChecks
{
    public static void CheckCombinations(AdmCommandKind cmd, HashSet<Opt> options)
    {
        var legal = Legal[cmd];
        var name = CommandNames[cmd];
        Opt? firstExclusive = null;
        foreach (var o in Enum.GetValues<Opt>())
        {
            legal.TryGetValue(o, out var rule);
            if (!options.Contains(o))
            {
                if (rule == '+') throw AdmParser.Fail($"You need to supply the '{OptNames[o]}' option for the '{name}' command");
                continue;
            }
            if (rule == '\0') throw AdmParser.Fail($"Illegal '{OptNames[o]}' option with the '{name}' command");
            if (rule == '1')
            {
                if (firstExclusive is { } first)
                    throw AdmParser.Fail($"The option '{OptNames[o]}' conflicts with the '{OptNames[first]}' option in the '{name}' command");
                firstExclusive = o;
            }
        }
    }

    // ipvsadm's tunnel_types_v_options: ipip takes none of the tunnel options; gue needs --tun-port and
    // at most one checksum option.
    public static void CheckTunnelOptions(string tunType, HashSet<Opt> options)
    {
        Opt[] tunOpts = [Opt.TunPort, Opt.TunNoCsum, Opt.TunCsum, Opt.TunRemCsum];
        Opt? firstExclusive = null;
        foreach (var o in tunOpts)
        {
            bool given = options.Contains(o);
            if (tunType == "ipip")
            {
                if (given) throw AdmParser.Fail($"Illegal '{OptNames[o]}' option with the 'ipip' tunnel type");
                continue;
            }
            // gue
            if (o == Opt.TunPort)
            {
                if (!given) throw AdmParser.Fail("You need to supply the 'tun-port' option for the 'gue' tunnel type");
                continue;
            }
            if (!given) continue;
            if (firstExclusive is { } first)
                throw AdmParser.Fail($"The option '{OptNames[o]}' conflicts with the '{OptNames[first]}' option in the 'gue' tunnel type");
            firstExclusive = o;
        }
    }

    /// <summary>IPVS schedulers TunLB does not have: refused here, with the reason, rather than by the director later.</summary>
    private static readonly string[] IpvsOnlySchedulers = ["lblc", "lblcr", "fo", "ovf", "twos"];

    /// <summary>-s: a scheduler the director accepts (the config loader's list), or a refusal that says why.</summary>
    public static string CheckScheduler(string name)
    {
        if (name.Length == 0 || ConfigLoader.Schedulers.Contains(name)) return name;
        var have = string.Join(' ', ConfigLoader.Schedulers);
        if (IpvsOnlySchedulers.Contains(name))
            throw AdmParser.Fail($"scheduler `{name}': TunLB has no {name} scheduler (it has {have}); " +
                                 (name is "lblc" or "lblcr" ? "wlc is the nearest" : "use one of those"));
        throw AdmParser.Fail($"scheduler `{name}' not found (TunLB has {have})");
    }

    /// <summary>
    /// -b: TunLB's flag names, or ipvsadm's flag-1/flag-2 mapped as IPVS numbers them for sh and mh (flag-1 = fallback,
    /// flag-2 = port, the same mapping as the keepalived import). A flag the scheduler cannot use is refused here.
    /// </summary>
    public static IReadOnlyList<string> ParseSchedFlags(string scheduler, string text)
    {
        var flags = new List<string>();
        foreach (var raw in text.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var flag = (raw, scheduler) switch
            {
                ("flag-1", "sh" or "mh") => scheduler + "-fallback",
                ("flag-2", "sh" or "mh") => scheduler + "-port",
                ("flag-1" or "flag-2", _) => throw AdmParser.Fail($"scheduler flag `{raw}' means nothing to TunLB's {scheduler} scheduler " +
                                                                  "(flag-1 and flag-2 are fallback and port of sh and mh)"),
                ("flag-3", _) => throw AdmParser.Fail("scheduler flag `flag-3' has no TunLB equivalent"),
                _ => raw,
            };
            string? needs = flag switch
            {
                "sh-fallback" or "sh-port" => "sh",
                "mh-fallback" or "mh-port" => "mh",
                _ => throw AdmParser.Fail($"invalid scheduler flag `{raw}'"),
            };
            if (needs != scheduler) throw AdmParser.Fail($"incompatible scheduler flag `{raw}'");
            if (!flags.Contains(flag)) flags.Add(flag);
        }
        if (flags.Count == 0) throw AdmParser.Fail($"invalid scheduler flag `{text}'");
        return flags;
    }
}
