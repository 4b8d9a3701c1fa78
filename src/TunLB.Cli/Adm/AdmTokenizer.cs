using static TunLB.Cli.Adm.AdmOptions;

namespace TunLB.Cli.Adm;

/// <summary>
/// Splits an ipvsadm command line into options and positional arguments: bundled short options (<c>-Ln</c>),
/// <c>--opt value</c> and <c>--opt=value</c>, and <c>--</c>.
/// </summary>
internal static class AdmTokenizer
{
    public static List<(OptDef Def, string? Value, string Spelled)> Tokenize(IReadOnlyList<string> args, out List<string> positional)
    {
        var items = new List<(OptDef, string?, string)>();
        positional = [];
        for (int i = 0; i < args.Count; i++)
        {
            var a = args[i];
            if (a == "--")
            {
                positional.AddRange(args.Skip(i + 1));
                break;
            }
            if (a.StartsWith("--", StringComparison.Ordinal))
            {
                var body = a[2..];
                string? inline = null;
                int eq = body.IndexOf('=');
                if (eq >= 0) { inline = body[(eq + 1)..]; body = body[..eq]; }
                var def = Defs.FirstOrDefault(d => d.Long == body)
                    ?? throw new AdmParser.ParseFailure(new AdmParseError($"{a}: unknown option", TryHelp: true));
                string? value = null;
                switch (def.Arg)
                {
                    case ArgKind.None:
                        if (inline is not null)
                            throw new AdmParser.ParseFailure(new AdmParseError($"{a}: option does not take an argument", TryHelp: true));
                        break;
                    case ArgKind.Required:
                        if (inline is not null) value = inline;
                        else if (i + 1 < args.Count) value = args[++i];
                        else throw new AdmParser.ParseFailure(new AdmParseError($"--{body}: missing argument", TryHelp: true));
                        break;
                    case ArgKind.Optional:
                        if (inline is not null) value = inline;
                        else if (i + 1 < args.Count && !args[i + 1].StartsWith('-')) value = args[++i];
                        break;
                }
                items.Add((def, value, "--" + body));
                continue;
            }
            if (a.Length > 1 && a[0] == '-')
            {
                for (int j = 1; j < a.Length; j++)
                {
                    char c = a[j];
                    var def = Defs.FirstOrDefault(d => d.Short == c && c != '\0')
                        ?? throw new AdmParser.ParseFailure(new AdmParseError($"-{c}: unknown option", TryHelp: true));
                    string? value = null;
                    var rest = a[(j + 1)..];
                    if (def.Arg == ArgKind.Required)
                    {
                        if (rest.Length > 0) value = rest;
                        else if (i + 1 < args.Count) value = args[++i];
                        else throw new AdmParser.ParseFailure(new AdmParseError($"-{c}: missing argument", TryHelp: true));
                        items.Add((def, value, "-" + c));
                        break;
                    }
                    if (def.Arg == ArgKind.Optional)
                    {
                        if (rest.Length > 0) value = rest;
                        else if (i + 1 < args.Count && !args[i + 1].StartsWith('-')) value = args[++i];
                        items.Add((def, value, "-" + c));
                        break;
                    }
                    items.Add((def, null, "-" + c));
                }
                continue;
            }
            positional.Add(a);
        }
        return items;
    }
}
