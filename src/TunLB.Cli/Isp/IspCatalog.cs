using System.Text;
using TunLB.Control.Configuration;

namespace TunLB.Cli.Isp;

/// <summary>Whether a provider lets real servers send packets with the VIP as source (see docs/isps.md).</summary>
public enum IspStatus { Allows, AllowsByException, CustomRouterSetup, Refuses }

/// <summary>One provider entry of data/isps.toml.</summary>
public sealed record IspEntry(string Name, IspStatus Status, string Place, string Note, int Line)
{
    public string StatusText => IspCatalog.StatusName(Status);

    /// <summary>"historical" for the seed's reports (a time when these were separate companies), else null.</summary>
    public string? Era { get; init; }

    /// <summary>The report's original wording, kept with a historical entry.</summary>
    public string? Original { get; init; }
}

/// <summary>
/// The provider list shipped with TunLB: data/isps.toml, an array of <c>[[isp]]</c> tables with the keys
/// <c>name</c>, <c>status</c>, <c>place</c> and <c>note</c> (all strings, all required), and optionally <c>era</c>
/// ("historical") and <c>original</c> (the report's own words).
/// </summary>
public static class IspCatalog
{
    public const string FileName = "isps.toml";
    public static readonly IReadOnlyList<string> StatusNames = ["allows", "allows-by-exception", "custom-router-setup", "refuses"];
    private static readonly string[] Keys = ["name", "status", "place", "note"];
    private static readonly string[] OptionalKeys = ["era", "original"];

    public static string StatusName(IspStatus s) => StatusNames[(int)s];

    /// <summary>
    /// Where the list is: <paramref name="explicitPath"/>, else $TUNLB_ISPS, else data/isps.toml next to the executable,
    /// else the first data/isps.toml found walking up from the executable and from the working directory (a checkout).
    /// </summary>
    public static string? Locate(string? explicitPath = null) => DataFile.Locate(FileName, "TUNLB_ISPS", explicitPath);

    public static IReadOnlyList<IspEntry> Load(string path) => Parse(File.ReadAllText(path), path);

    /// <summary>Parses and validates the whole file; throws <see cref="ConfigException"/> with every error.</summary>
    public static IReadOnlyList<IspEntry> Parse(string text, string file)
    {
        var errors = new List<ConfigError>();
        var root = TomlTree.Parse(text, file, errors);
        var list = new List<IspEntry>();
        if (root is not null)
        {
            foreach (var e in root.Entries)
                if (e.Name != "isp") errors.Add(new ConfigError(file, e.Line, e.Column, e.Name, "unknown key; the file holds [[isp]] tables only"));
            var isp = root.Find("isp");
            if (isp is null) errors.Add(new ConfigError(file, 0, 0, "isp", "no [[isp]] entries"));
            else if (isp.Value is not TTableArray arr) errors.Add(new ConfigError(file, isp.Line, isp.Column, "isp", "must be [[isp]] tables"));
            else
            {
                var names = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
                foreach (var t in arr.Items)
                {
                    var v = new Dictionary<string, string>();
                    foreach (var e in t.Entries)
                    {
                        if (!Keys.Contains(e.Name) && !OptionalKeys.Contains(e.Name)) { errors.Add(new ConfigError(file, e.Line, e.Column, $"isp.{e.Name}", "unknown key (name, status, place, note, era, original)")); continue; }
                        if (e.Value is TScalar { Value: string s } && s.Trim().Length > 0) v[e.Name] = s.Trim();
                        else errors.Add(new ConfigError(file, e.Line, e.Column, $"isp.{e.Name}", $"must be a non-empty string, not {e.Value.Describe()}"));
                    }
                    foreach (var k in Keys)
                        if (!v.ContainsKey(k) && t.Find(k) is null) errors.Add(new ConfigError(file, t.Line, t.Column, $"isp.{k}", "missing"));
                    if (v.TryGetValue("status", out var st) && !StatusNames.Contains(st))
                        errors.Add(new ConfigError(file, t.Find("status")!.Line, t.Find("status")!.Column, "isp.status", $"\"{st}\" is not one of {string.Join(", ", StatusNames)}"));
                    if (v.TryGetValue("name", out var name) && !names.TryAdd(name, t.Line))
                        errors.Add(new ConfigError(file, t.Find("name")!.Line, t.Find("name")!.Column, "isp.name", $"\"{name}\" is listed twice (first at line {names[name]})"));
                    if (v.TryGetValue("era", out var era) && era != "historical")
                        errors.Add(new ConfigError(file, t.Find("era")!.Line, t.Find("era")!.Column, "isp.era", $"\"{era}\" is not \"historical\""));
                    if (Keys.All(v.ContainsKey) && StatusNames.Contains(v["status"]))
                        list.Add(new IspEntry(v["name"], (IspStatus)StatusNames.ToList().IndexOf(v["status"]), v["place"], v["note"], t.Line)
                        {
                            Era = v.GetValueOrDefault("era"), Original = v.GetValueOrDefault("original"),
                        });
                }
            }
        }
        if (errors.Count > 0) throw new ConfigException(errors);
        return list;
    }

    /// <summary>Entries whose name contains <paramref name="query"/>, ignoring case; an exact match alone when there is one.</summary>
    public static IReadOnlyList<IspEntry> Find(IReadOnlyList<IspEntry> all, string query)
    {
        var exact = all.Where(e => e.Name.Equals(query, StringComparison.OrdinalIgnoreCase)).ToList();
        return exact.Count > 0 ? exact : all.Where(e => e.Name.Contains(query, StringComparison.OrdinalIgnoreCase)).ToList();
    }

    /// <summary>One entry in the file's format, ready to paste into data/isps.toml.</summary>
    public static string Format(string name, string status, string place, string note, string? comment = null)
    {
        var sb = new StringBuilder();
        if (comment is not null) foreach (var l in comment.Split('\n')) sb.AppendLine("# " + l);
        sb.AppendLine("[[isp]]");
        sb.AppendLine($"name = {Quote(name)}");
        sb.AppendLine($"status = {Quote(status)}");
        sb.AppendLine($"place = {Quote(place)}");
        sb.AppendLine($"note = {Quote(note)}");
        return sb.ToString();
    }

    private static string Quote(string s)
    {
        var sb = new StringBuilder("\"");
        foreach (char c in s)
            sb.Append(c switch { '"' => "\\\"", '\\' => "\\\\", '\n' => "\\n", '\t' => "\\t", < ' ' => $"\\u{(int)c:x4}", _ => c.ToString() });
        return sb.Append('"').ToString();
    }
}
