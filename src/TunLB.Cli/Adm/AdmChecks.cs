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

    public static IReadOnlyList<string> ParseSchedFlags(string scheduler, string text)
    {
        var flags = new List<string>();
        foreach (var flag in text.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            string? needs = flag switch
            {
                "flag-1" or "flag-2" or "flag-3" => null,
                "sh-fallback" or "sh-port" => "sh",
                "mh-fallback" or "mh-port" => "mh",
                _ => throw AdmParser.Fail($"invalid scheduler flag `{flag}'"),
            };
            if (needs is not null && needs != scheduler) throw AdmParser.Fail($"incompatible scheduler flag `{flag}'");
            if (!flags.Contains(flag)) flags.Add(flag);
        }
        if (flags.Count == 0) throw AdmParser.Fail($"invalid scheduler flag `{text}'");
        return flags;
    }
}
