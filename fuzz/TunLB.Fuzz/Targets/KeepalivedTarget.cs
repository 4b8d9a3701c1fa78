using TunLB.Cli.Import;
using TunLB.Control.Configuration;

namespace TunLB.Fuzz.Targets;

/// <summary>
/// The keepalived importer on the input as keepalived.conf text (relative includes resolve in a directory that does
/// not exist, so they match nothing). Documented outcome of a broken file: <see cref="KeepalivedParseException"/>.
/// The TOML it writes then goes through the config loader, where only <see cref="ConfigException"/> may come out.
/// </summary>
public sealed class KeepalivedTarget : IFuzzTarget
{
    private const string Path = "/nonexistent/tunlb-fuzz/keepalived.conf";

    public string Name => "keepalived";

    public void Run(ReadOnlySpan<byte> input)
    {
        ImportResult result;
        try { result = KeepalivedImporter.ImportText(Text.Utf8(input), Path); }
        catch (KeepalivedParseException) { return; }
        if (result.Toml is null) throw new InvalidOperationException("import without output");
        try { ConfigLoader.ParseDirector(result.Toml, "converted.toml"); }
        catch (ConfigException) { }
    }
}
