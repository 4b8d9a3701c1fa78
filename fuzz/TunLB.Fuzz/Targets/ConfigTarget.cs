using TunLB.Control.Configuration;

namespace TunLB.Fuzz.Targets;

/// <summary>
/// The TOML config loader: the input (UTF-8) as a director config and as a real-server config. The documented
/// outcome of a bad file is a <see cref="ConfigException"/> listing every error; anything else escaping is a bug.
/// </summary>
public sealed class ConfigTarget : IFuzzTarget
{
    public string Name => "config";

    public void Run(ReadOnlySpan<byte> input)
    {
        string text = Text.Utf8(input);
        try { ConfigLoader.ParseDirector(text, "fuzz.toml"); }
        catch (ConfigException e) { Expect(e); }
        try { ConfigLoader.ParseRealServer(text, "fuzz.toml"); }
        catch (ConfigException e) { Expect(e); }
    }

    // A ConfigException must say what is wrong.
    private static void Expect(ConfigException e)
    {
        if (e.Errors.Count == 0) throw new InvalidOperationException("ConfigException without errors", e);
    }
}
