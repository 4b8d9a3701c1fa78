using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace TunLB.Lab;

/// <summary>What the seed demo and its test look at: the router's route to the VIP, the directors' APIs, HTTP from the client.</summary>
public static partial class SeedProbe
{
    /// <summary>The next hops of the router's kernel route to the VIP (empty when it has none).</summary>
    public static IReadOnlyList<string> Nexthops(Topology t) => NexthopsOf(RouterRoute(t));

    public static string RouterRoute(Topology t) => t.Try("rt", 5_000, "ip", "route", "show", SeedLab.Vip + "/32").Stdout.Trim();

    public static IReadOnlyList<string> NexthopsOf(string route) =>
        Via().Matches(route).Select(m => m.Groups[1].Value).Order(StringComparer.Ordinal).ToList();

    /// <summary>Polls until <paramref name="want"/> holds for the router's next hops; the elapsed ms, or -1 on timeout.</summary>
    public static long Until(Topology t, Func<IReadOnlyList<string>, bool> want, int timeoutMs) =>
        Watch(t, want, timeoutMs).Ms;

    /// <summary>Like <see cref="Until"/>, and also the distinct next-hop sets seen on the way (a moment without any
    /// next hop shows as "none").</summary>
    public static (long Ms, IReadOnlyList<string> States) Watch(Topology t, Func<IReadOnlyList<string>, bool> want, int timeoutMs)
    {
        var sw = Stopwatch.StartNew();
        var states = new List<string>();
        do
        {
            var h = Nexthops(t);
            var state = h.Count == 0 ? "none" : string.Join(",", h);
            if (states.Count == 0 || states[^1] != state) states.Add(state);
            if (want(h)) return (sw.ElapsedMilliseconds, states);
            Thread.Sleep(5);
        } while (sw.ElapsedMilliseconds < timeoutMs);
        return (-1, states);
    }

    /// <summary>GET on one director's API from the router namespace (the APIs listen on the directors' LAN addresses).</summary>
    public static JsonDocument? Api(Topology t, SeedDirector d, string path)
    {
        // Three tries: on a loaded machine one answer in a few hundred took longer than the first try allowed.
        for (int attempt = 0; attempt < 3; attempt++)
        {
            var r = t.Try("rt", 20_000, "curl", "-s", "--max-time", "10", "-H", $"Authorization: Bearer {SeedLab.ApiToken}", $"{d.ApiUrl}/{path}");
            if (r.ExitCode != 0 || r.Stdout.Length == 0) continue;
            try { return JsonDocument.Parse(r.Stdout); } catch (JsonException) { }
        }
        return null;
    }

    /// <summary>Connections each director scheduled for the VIP's service (GET /api/v1/services: stats.conns), and per
    /// real server summed over the directors that answered.</summary>
    public static (Dictionary<string, long> PerDirector, Dictionary<string, long> PerReal) Scheduled(Topology t)
    {
        var perDirector = new Dictionary<string, long>();
        var perReal = new Dictionary<string, long>();
        foreach (var d in SeedLab.Directors)
        {
            using var doc = Api(t, d, "api/v1/services")
                ?? throw new InvalidOperationException($"the API of {d.Role} ({d.ApiUrl}) did not answer");
            foreach (var svc in doc.RootElement.EnumerateArray())
            {
                if (svc.GetProperty("vip").GetString() != SeedLab.Vip) continue;
                perDirector[d.Role] = perDirector.GetValueOrDefault(d.Role) + svc.GetProperty("stats").GetProperty("conns").GetInt64();
                foreach (var real in svc.GetProperty("reals").EnumerateArray())
                {
                    var rs = SeedLab.RealServers.FirstOrDefault(x => x.Address == real.GetProperty("address").GetString());
                    if (rs != null) perReal[rs.Role] = perReal.GetValueOrDefault(rs.Role) + real.GetProperty("stats").GetProperty("conns").GetInt64();
                }
            }
        }
        return (perDirector, perReal);
    }

    /// <summary>
    /// Runs one curl in the client namespace for <paramref name="count"/> transfers in parallel (each a new connection from
    /// a new port), into files under <paramref name="dir"/>; returns the curl process and the files.
    /// </summary>
    public static (BackgroundProcess Curl, List<string> Files) StartTransfers(Topology t, string dir, string path, int count,
        string? limitRate, int maxTimeSeconds)
    {
        Directory.CreateDirectory(dir);
        var cfg = new StringBuilder();
        var files = new List<string>();
        for (int i = 0; i < count; i++)
        {
            var f = Path.Combine(dir, $"t{i:D3}");
            files.Add(f);
            cfg.Append($"url = \"http://{SeedLab.Vip}{path}?n={i}\"\noutput = \"{f}\"\n");
        }
        var cfgPath = Path.Combine(dir, "curl.cfg");
        File.WriteAllText(cfgPath, cfg.ToString());
        var args = new List<string> { "-s", "--parallel", "--parallel-immediate", "--parallel-max", "300", "--max-time", maxTimeSeconds.ToString(),
            "-K", cfgPath, "-w", "%{size_download} %{http_code} %{exitcode}\\n" };
        if (limitRate != null) { args.Add("--limit-rate"); args.Add(limitRate); }
        return (t.Start("client", "curl-" + Path.GetFileName(dir), "curl", [.. args]), files);
    }

    /// <summary>Files whose content is the blob (right size, right sha256).</summary>
    public static int Intact(IEnumerable<string> files, string sha256) =>
        files.Count(f => File.Exists(f) && new FileInfo(f).Length == SeedServices.BlobSize &&
                         Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(f))) == sha256);

    /// <summary>Makes a director drop everything silently (as a hung host or a cut link would, with the link still up).</summary>
    public static void Silence(Topology t, SeedDirector d, bool on)
    {
        if (on)
            t.Exec(d.Role, "nft",
                "add table netdev seedlab_silent; " +
                "add chain netdev seedlab_silent drop_in { type filter hook ingress device \"eth0\" priority -500; policy drop; }; " +
                "add table inet seedlab_silent; " +
                "add chain inet seedlab_silent drop_out { type filter hook output priority -500; policy drop; }");
        else
            t.Exec(d.Role, "nft", "delete table netdev seedlab_silent; delete table inet seedlab_silent");
    }

    [GeneratedRegex(@"via (\d+\.\d+\.\d+\.\d+)")]
    private static partial Regex Via();
}
