using System.Text;
using TunLB.Control.Configuration;

namespace TunLB.Cli.Isp;

/// <summary>
/// data/providers.toml: what today's clouds and dedicated/VPS providers document about sending with a source address
/// that is not the server's own (the VIP, in LVS-TUN), per address family, with links to the provider's documentation.
/// One <c>[[provider]]</c> table per provider; validated as a whole, every error reported (as <see cref="IspCatalog"/>).
/// </summary>
public static class ProviderCatalog
{
    public const string FileName = "providers.toml";
    public static readonly IReadOnlyList<string> SupportNames = ["allowed", "setting", "allowed-addresses", "assigned-only", "not-possible", "undocumented"];
    public static readonly IReadOnlyList<string> Kinds = ["cloud", "dedicated", "vps", "platform"];
    private static readonly string[] Required = ["name", "kind", "ipv4", "ipv6", "setting", "detail", "sources", "read"];
    private static readonly string[] Optional = ["aliases"];

    public static string SupportName(ProviderSupport s) => SupportNames[(int)s];

    /// <summary>Next to data/isps.toml: the same search (explicit path, $TUNLB_PROVIDERS, data/ next to the executable or up from it / the working directory).</summary>
    public static string? Locate(string? explicitPath = null) => DataFile.Locate(FileName, "TUNLB_PROVIDERS", explicitPath);

    public static IReadOnlyList<ProviderEntry> Load(string path) => Parse(File.ReadAllText(path), path);

    public static IReadOnlyList<ProviderEntry> Parse(string text, string file)
    {
        var errors = new List<ConfigError>();
        var root = TomlTree.Parse(text, file, errors);
        var list = new List<ProviderEntry>();
        if (root is not null)
        {
            foreach (var e in root.Entries)
                if (e.Name != "provider") errors.Add(new ConfigError(file, e.Line, e.Column, e.Name, "unknown key; the file holds [[provider]] tables only"));
            var arr = root.Find("provider")?.Value as TTableArray;
            if (arr is null) errors.Add(new ConfigError(file, 0, 0, "provider", "no [[provider]] tables"));
            else
            {
                var names = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
                foreach (var t in arr.Items)
                    if (ParseOne(t, file, errors, names) is { } p) list.Add(p);
            }
        }
        if (errors.Count > 0) throw new ConfigException(errors);
        return list;
    }

    private static ProviderEntry? ParseOne(TTable t, string file, List<ConfigError> errors, Dictionary<string, int> names)
    {
        int before = errors.Count;
        void Err(TEntry e, string m) => errors.Add(new ConfigError(file, e.Line, e.Column, $"provider.{e.Name}", m));
        var s = new Dictionary<string, string>();
        var lists = new Dictionary<string, List<string>>();
        foreach (var e in t.Entries)
        {
            if (!Required.Contains(e.Name) && !Optional.Contains(e.Name)) { Err(e, $"unknown key ({string.Join(", ", Required.Concat(Optional))})"); continue; }
            if (e.Name is "sources" or "aliases")
            {
                if (e.Value is not TArray a || a.Items.Any(i => i is not TScalar { Value: string })) { Err(e, "must be an array of strings"); continue; }
                lists[e.Name] = a.Items.Select(i => ((string)((TScalar)i).Value).Trim()).ToList();
            }
            else if (e.Value is TScalar { Value: string v } && v.Trim().Length > 0) s[e.Name] = v.Trim();
            else Err(e, $"must be a non-empty string, not {e.Value.Describe()}");
        }
        foreach (var k in Required)
            if (t.Find(k) is null) errors.Add(new ConfigError(file, t.Line, t.Column, $"provider.{k}", "missing"));
        ProviderSupport Support(string key)
        {
            if (!s.TryGetValue(key, out var v)) return ProviderSupport.Undocumented;
            int i = SupportNames.ToList().IndexOf(v);
            if (i < 0) Err(t.Find(key)!, $"\"{v}\" is not one of {string.Join(", ", SupportNames)}");
            return i < 0 ? ProviderSupport.Undocumented : (ProviderSupport)i;
        }
        var v4 = Support("ipv4");
        var v6 = Support("ipv6");
        if (s.TryGetValue("kind", out var kind) && !Kinds.Contains(kind)) Err(t.Find("kind")!, $"\"{kind}\" is not one of {string.Join(", ", Kinds)}");
        var sources = lists.GetValueOrDefault("sources") ?? [];
        foreach (var u in sources)
            if (!Uri.TryCreate(u, UriKind.Absolute, out var uri) || uri.Scheme != "https")
                Err(t.Find("sources")!, $"\"{u}\" is not an https URL");
        // Nothing asserted without a source: only an all-undocumented entry may have none.
        if (sources.Count == 0 && t.Find("sources") is { } se && (v4 != ProviderSupport.Undocumented || v6 != ProviderSupport.Undocumented))
            Err(se, "an entry that states anything but \"undocumented\" needs at least one source");
        var aliases = lists.GetValueOrDefault("aliases") ?? [];
        if (s.TryGetValue("name", out var name))
            foreach (var n in aliases.Prepend(name))
                if (!names.TryAdd(n, t.Line))
                    Err(t.Find("name")!, $"\"{n}\" is already used (line {names[n]})");
        if (errors.Count > before) return null;
        return new ProviderEntry(s["name"], aliases, s["kind"], v4, v6, s["setting"], s["detail"], sources, s["read"], t.Line);
    }

    /// <summary>Exact name or alias first, else every entry whose name or alias contains <paramref name="query"/>.</summary>
    public static IReadOnlyList<ProviderEntry> Find(IReadOnlyList<ProviderEntry> all, string query)
    {
        var exact = all.Where(e => e.IsExactly(query)).ToList();
        return exact.Count > 0 ? exact : all.Where(e => e.Matches(query)).ToList();
    }

    /// <summary>`tunlb isp show` for a documented provider.</summary>
    public static string Show(ProviderEntry e)
    {
        var sb = new StringBuilder();
        sb.AppendLine($"name:     {e.Name}{(e.Aliases.Count > 0 ? $" ({string.Join(", ", e.Aliases)})" : "")}");
        sb.AppendLine($"kind:     {e.Kind}");
        sb.AppendLine($"IPv4:     {SupportName(e.Ipv4)}");
        sb.AppendLine($"IPv6:     {SupportName(e.Ipv6)}");
        sb.AppendLine($"setting:  {e.Setting}");
        sb.AppendLine($"detail:   {e.Detail}");
        if (e.Sources.Count == 0) sb.AppendLine("source:   none found: undocumented");
        foreach (var u in e.Sources) sb.AppendLine($"source:   {u}");
        sb.AppendLine($"read:     {e.Read}");
        return sb.ToString();
    }

    /// <summary>The table of docs/isps.md between its markers (kept in sync by a test; `tunlb isp list --markdown` prints it).</summary>
    public static string Markdown(IReadOnlyList<ProviderEntry> all)
    {
        var sb = new StringBuilder();
        sb.AppendLine("| provider | IPv4 | IPv6 | what to change | sources (read) |");
        sb.AppendLine("|---|---|---|---|---|");
        foreach (var e in all)
        {
            string src = e.Sources.Count == 0 ? "none found" : string.Join("<br>", e.Sources.Select((u, i) => $"[{i + 1}]({u})"));
            sb.AppendLine($"| {Cell(e.Name)} | {SupportName(e.Ipv4)} | {SupportName(e.Ipv6)} | {Cell(e.Setting)} | {src} ({Cell(e.Read)}) |");
        }
        return sb.ToString();
    }

    private static string Cell(string s) => s.Replace("|", "\\|").Replace("\n", " ");
}
