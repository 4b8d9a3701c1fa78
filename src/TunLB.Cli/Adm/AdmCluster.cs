using Tomlyn;
using Tomlyn.Model;
using TunLB.Control.Api;

namespace TunLB.Cli.Adm;

/// <summary>
/// `tunlb adm -L -n --cluster URL1,URL2,...` (TunLB extension): lists several directors at once through their APIs and
/// says where they disagree. The directors come from <c>--cluster</c> (repeatable, comma-separated; a value naming a
/// file reads its <c>[cluster] directors = [...]</c> and <c>token</c>; no value reads /etc/tunlb/adm.toml), or from
/// <c>--api</c> given more than once. See docs/adm.md.
/// </summary>
public static class AdmCluster
{
    public const string DefaultClientConfig = "/etc/tunlb/adm.toml";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    /// <summary>The directors and the arguments left for the ipvsadm parser.</summary>
    public sealed record Request(IReadOnlyList<string> Directors, string? FileToken, string[] Rest);

    /// <summary>Null when the command line asks for no fleet view; <paramref name="error"/> set when it asks wrongly.</summary>
    public static Request? Extract(string[] args, out string? error)
    {
        error = null;
        var directors = new List<string>();
        var apis = new List<string>();
        var rest = new List<string>();
        string? fileToken = null;
        bool cluster = false;
        for (int i = 0; i < args.Length; i++)
        {
            var a = args[i];
            if (a == "--") { rest.AddRange(args[i..]); break; }
            if (a == "--cluster" || a.StartsWith("--cluster=", StringComparison.Ordinal))
            {
                cluster = true;
                string? value = a.Length > "--cluster".Length ? a["--cluster=".Length..]
                    : i + 1 < args.Length && !args[i + 1].StartsWith('-') ? args[++i] : null;
                foreach (var v in value is null ? [DefaultClientConfig] : value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                {
                    if (!LooksLikeFile(v)) { directors.Add(v); continue; }
                    var (list, token, err) = ReadClientConfig(v);
                    if (err is not null) { error = err; return null; }
                    directors.AddRange(list);
                    fileToken ??= token;
                }
                continue;
            }
            if ((a == "--api" && i + 1 < args.Length) || a.StartsWith("--api=", StringComparison.Ordinal))
            {
                apis.Add(a == "--api" ? args[++i] : a["--api=".Length..]);
                continue;
            }
            rest.Add(a);
        }
        if (!cluster && apis.Count < 2) return null; // one --api (or none): the ordinary single-director command
        directors.AddRange(apis);
        directors = directors.Distinct(StringComparer.Ordinal).ToList();
        if (directors.Count == 0) { error = "--cluster: no directors given"; return null; }
        return new Request(directors, fileToken, [.. rest]);
    }

    private static bool LooksLikeFile(string v) =>
        v.EndsWith(".toml", StringComparison.OrdinalIgnoreCase) || (v.StartsWith('/') && File.Exists(v));

    /// <summary>Reads <c>[cluster] directors = ["host:port" or URL, ...]</c> and an optional <c>token</c>.</summary>
    internal static (IReadOnlyList<string> Directors, string? Token, string? Error) ReadClientConfig(string path)
    {
        try
        {
            var model = TomlSerializer.Deserialize<TomlTable>(File.ReadAllText(path));
            if (model is null || !model.TryGetValue("cluster", out var c) || c is not TomlTable cluster ||
                !cluster.TryGetValue("directors", out var d) || d is not TomlArray arr || arr.Count == 0)
                return ([], null, $"{path}: expected [cluster] directors = [\"HOST:PORT\", ...]");
            var list = arr.OfType<string>().Select(s => s.Trim()).Where(s => s.Length > 0).ToList();
            if (list.Count != arr.Count) return ([], null, $"{path}: [cluster] directors must be strings");
            string? token = cluster.TryGetValue("token", out var t) && t is string ts && ts.Trim().Length > 0 ? ts.Trim() : null;
            return (list, token, null);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or TomlException)
        {
            return ([], null, $"{path}: {e.Message}");
        }
    }

    public static int Run(Request c, TextWriter stdout, TextWriter stderr, AdmEnvironment env)
    {
        var (request, error) = AdmParser.Parse(c.Rest, env.ResolveHost, env.ResolvePort);
        if (error is not null)
        {
            if (error.Message.Length > 0) stderr.Write(error.Message + "\n");
            if (error.TryHelp) stderr.Write(AdmCommand.TryHelp);
            return error.ExitCode;
        }
        var r = request!;
        if (r.Command != AdmCommandKind.List || r.Connections || r.ShowTimeouts || r.Daemon)
        {
            stderr.Write($"{AdmCommand.Program}: --cluster (or several --api) works with -L/--list of services only\n");
            return 2;
        }
        var token = r.Token ?? NonEmpty(env.GetEnv("TUNLB_API_TOKEN")) ?? c.FileToken ?? AdmCommand.ReadConfig(env.ConfigPath).Token;
        var trust = new AdmTrust(r.CaCert ?? NonEmpty(env.GetEnv("TUNLB_CACERT")), null, r.Insecure);
        try { _ = new AdmCertificateCheck(trust); }
        catch (AdmTrustException e) { stderr.Write($"{AdmCommand.Program}: {e.Message}\n"); return 2; }
        if (trust.Insecure) stderr.Write($"{AdmCommand.Program}: warning: --insecure: the certificates of https:// directors are not checked\n");
        var snapshots = c.Directors.AsParallel().AsOrdered().Select(d => Fetch(d, token, r.Service, trust: trust)).ToList();
        stdout.Write(AdmClusterFormatter.Format(AdmClusterView.Merge(snapshots)));
        return snapshots.Any(s => s.Reachable) ? 0 : 1;
    }

    /// <summary>One director's services, announcement status and rendered config; never throws for a director that
    /// cannot be reached or answers an error: that becomes the snapshot's <see cref="ClusterSnapshot.Error"/>.</summary>
    internal static ClusterSnapshot Fetch(string director, string? token, AdmService? only, HttpMessageHandler? handler = null, AdmTrust? trust = null)
    {
        var name = Name(director);
        AdmClient client;
        try { client = new AdmClient(director, token, Timeout, handler, trust); }
        catch (UriFormatException) { return new ClusterSnapshot(name, null, null, null, "invalid address"); }
        using (client)
        {
            IReadOnlyList<ServiceDto> services;
            try { services = client.GetServices(); }
            catch (AdmUnreachableException e) { return new ClusterSnapshot(name, null, null, null, e.Message); }
            catch (AdmApiException e) { return new ClusterSnapshot(name, null, null, null, $"HTTP {e.Status}: {e.Message}"); }
            if (only is not null)
                services = services.Where(s => string.Equals(s.Protocol, only.Protocol, StringComparison.OrdinalIgnoreCase) &&
                                               s.Port == only.Port && System.Net.IPAddress.TryParse(s.Vip, out var v) && v.Equals(only.Address)).ToList();
            DirectorStatusDto? status = null;
            string? config = null;
            try { status = client.GetDirector(); } catch (Exception e) when (e is AdmApiException or AdmUnreachableException) { }
            try { config = client.GetConfigToml(); } catch (Exception e) when (e is AdmApiException or AdmUnreachableException) { }
            return new ClusterSnapshot(name, services, status, config);
        }
    }

    /// <summary>"http://192.0.2.2:9400/" → "192.0.2.2:9400": short enough for a column header.</summary>
    public static string Name(string director)
    {
        var t = director.Trim();
        foreach (var scheme in new[] { "http://", "https://" })
            if (t.StartsWith(scheme, StringComparison.OrdinalIgnoreCase)) t = t[scheme.Length..];
        return t.TrimEnd('/');
    }

    private static string? NonEmpty(string? s) => string.IsNullOrWhiteSpace(s) ? null : s.Trim();
}
