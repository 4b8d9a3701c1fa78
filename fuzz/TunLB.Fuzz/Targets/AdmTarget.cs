using TunLB.Cli.Adm;

namespace TunLB.Fuzz.Targets;

/// <summary>
/// The adm parser as <c>tunlb adm -R</c> reads its input: each line of the input split like ipvsadm's restore
/// (<see cref="AdmCommand.SplitLine"/>) and parsed (<see cref="AdmParser.Parse"/>), IP literals and numeric ports only.
/// An input starting with NUL is one command line instead, its arguments separated by NUL.
/// The documented outcome of a bad line is an <see cref="AdmParseError"/> result; nothing may be thrown.
/// </summary>
public sealed class AdmTarget : IFuzzTarget
{
    public string Name => "adm";

    public void Run(ReadOnlySpan<byte> input)
    {
        // A leading NUL: the rest is one command line, arguments separated by NUL (spaces inside arguments).
        if (input.Length > 0 && input[0] == 0)
        {
            Check(AdmParser.Parse(Text.Utf8(input.Slice(1)).Split('\0')));
            return;
        }
        using var reader = new StringReader(Text.Utf8(input));
        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            var tokens = AdmCommand.SplitLine(line);
            if (tokens.Count == 0) continue;
            Check(AdmParser.Parse(tokens));
        }
    }

    private static void Check((AdmRequest? Request, AdmParseError? Error) r)
    {
        if ((r.Request is null) == (r.Error is null)) throw new InvalidOperationException("Parse must return a request or an error");
    }
}
