using System.Text;
using TunLB.Cli.Import;
using TunLB.Control.Configuration;

namespace TunLB.Cli.Tests.Import;

/// <summary>Fixture lookup and checks of converted output shared by the import tests.</summary>
internal static class ImportTestSupport
{
    public static string FixtureDir
    {
        get
        {
            for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
            {
                var p = Path.Combine(d.FullName, "tests", "fixtures", "keepalived");
                if (Directory.Exists(p)) return p;
            }
            throw new DirectoryNotFoundException("tests/fixtures/keepalived");
        }
    }

    public static string Fixture(string name) => Path.Combine(FixtureDir, name);

    /// <summary>1-based line of the <paramref name="nth"/> line of a file that contains <paramref name="marker"/>.</summary>
    public static int LineOf(string path, string marker, int nth = 1)
    {
        var lines = File.ReadAllLines(path);
        for (int i = 0, seen = 0; i < lines.Length; i++)
            if (lines[i].Contains(marker, StringComparison.Ordinal) && ++seen == nth) return i + 1;
        throw new InvalidOperationException($"{marker} not found {nth} time(s) in {path}");
    }

    /// <summary>Keys the health-check work adds to TunLB's config; today's loader does not know them yet.</summary>
    private static readonly string[] NewTables = ["[service.check]", "[service.sorry]", "[service.real.check]"];
    private static readonly string[] NewKeys = ["quorum", "hysteresis", "quorum_up", "quorum_down"];

    /// <summary>
    /// The converted text without the tables and keys of the health-check work in progress
    /// ([service.check], [service.sorry], [service.real.check]; quorum, hysteresis, quorum_up,
    /// quorum_down), removed line by line from the real output.
    /// </summary>
    public static string StripHealthConfig(string toml)
    {
        var sb = new StringBuilder();
        bool skipping = false;
        foreach (var line in toml.Split('\n'))
        {
            var t = line.Trim();
            if (t.StartsWith('['))
                skipping = NewTables.Any(n => t.StartsWith(n, StringComparison.Ordinal));
            if (skipping) continue;
            var eq = t.IndexOf('=');
            if (eq > 0 && NewKeys.Contains(t[..eq].Trim())) continue;
            sb.Append(line).Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>The whole output as a TOML tree (Tomlyn syntax tree via TomlTree); fails on any TOML error.</summary>
    public static TTable ParseToml(string toml)
    {
        var errors = new List<ConfigError>();
        var root = TomlTree.Parse(toml, "converted.toml", errors);
        Assert.True(errors.Count == 0, string.Join('\n', errors));
        return root!;
    }

    public static TTable Service(TTable root, int i) => ((TTableArray)root.Find("service")!.Value).Items[i];
    public static TTable Real(TTable service, int i) => ((TTableArray)service.Find("real")!.Value).Items[i];
    public static TTable? Table(TTable t, string name) => t.Find(name)?.Value as TTable;
    public static object? Value(TTable? t, string key) => (t?.Find(key)?.Value as TScalar)?.Value;

    /// <summary>Loads the output with today's ConfigLoader: the stripped text must load cleanly.</summary>
    public static DirectorConfig LoadStripped(ImportResult r) =>
        ConfigLoader.ParseDirector(StripHealthConfig(r.Toml), "converted.toml");

    /// <summary>
    /// The full output either loads, or every error is an "unknown key" about one of the tables
    /// and keys of the health-check work (so nothing else in it is wrong).
    /// </summary>
    public static void AssertFullOutputFailsOnlyOnNewKeys(ImportResult r)
    {
        try { ConfigLoader.ParseDirector(r.Toml, "converted.toml"); }
        catch (ConfigException e)
        {
            foreach (var err in e.Errors)
            {
                var last = err.Key[(err.Key.LastIndexOf('.') + 1)..];
                Assert.True((err.Message.StartsWith("unknown key", StringComparison.Ordinal) || err.Message.StartsWith("unknown table", StringComparison.Ordinal))
                            && (last is "check" or "sorry" || NewKeys.Contains(last)), err.ToString());
            }
        }
    }

    public static ImportIssue Issue(ImportResult r, string file, int line, ImportSeverity severity, string whatStart)
    {
        var found = r.Issues.Where(i => i.File.EndsWith(file, StringComparison.Ordinal) && i.Line == line
                                        && i.Severity == severity && i.What.StartsWith(whatStart, StringComparison.Ordinal)).ToList();
        Assert.True(found.Count == 1,
            $"expected one {severity} issue \"{whatStart}\" at {file}:{line}; report:\n{string.Join('\n', r.Issues)}");
        return found[0];
    }
}

/// <summary>A fact that runs only when an environment variable names an existing directory.</summary>
public sealed class FactWhenDirectoryAttribute : FactAttribute
{
    public FactWhenDirectoryAttribute(string variable)
    {
        var dir = Environment.GetEnvironmentVariable(variable);
        if (string.IsNullOrEmpty(dir) || !Directory.Exists(dir))
            Skip = $"set {variable} to a directory to run this test";
    }
}
