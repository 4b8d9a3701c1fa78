namespace TunLB.Cli.Import;

/// <summary>
/// Converts the <c>virtual_server</c> blocks of a keepalived configuration into TunLB director
/// TOML. Everything that cannot be carried over is reported with its file and line; see
/// docs/keepalived-import.md for the mapping.
/// </summary>
public static class KeepalivedImporter
{
    /// <summary>Reads and converts a file (and what it includes).</summary>
    /// <exception cref="KeepalivedParseException">Unreadable file or broken structure.</exception>
    public static ImportResult ImportFile(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var includeProblems = new List<(string, int, string, int)>();
        var stray = new List<KToken>();
        var top = KeepalivedSyntax.ParseFile(path, includeProblems, stray);
        return new Converter().Run(path, top, includeProblems, stray);
    }

    /// <summary>Converts text; <paramref name="path"/> names it in the report and anchors relative includes.</summary>
    /// <exception cref="KeepalivedParseException">Broken structure or an unreadable include.</exception>
    public static ImportResult ImportText(string text, string path)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(path);
        var includeProblems = new List<(string, int, string, int)>();
        var stray = new List<KToken>();
        var top = KeepalivedSyntax.ParseText(text, path, includeProblems, stray);
        return new Converter().Run(path, top, includeProblems, stray);
    }
}
