using System.Diagnostics;
using System.Text.Json;

namespace TunLB.Lab;

/// <summary>The seed demo's fleet view: makes the directors disagree (one cannot reach a real server, another runs a
/// different weight), then shows `tunlb adm -L -n --cluster` over all three.</summary>
public static class SeedFleet
{
    public static string ClusterList => string.Join(',', SeedLab.Directors.Select(d => d.ApiUrl));

    /// <summary>rs12 drops everything from d3 (a partial partition: d3 sees it down, d1 and d2 up); d2 gets weight 3 for rs4
    /// through its API. Returns the two real servers' addresses.</summary>
    public static (string Partitioned, string Reweighted) MakeDisagreement(TextWriter o, Topology t, string[] tunlb)
    {
        var rs = SeedLab.RealServers[^1];
        var d3 = SeedLab.Directors[2];
        t.Exec(rs.Role, "nft",
            "add table ip seedlab_partition; " +
            "add chain ip seedlab_partition from_director { type filter hook prerouting priority -300; policy accept; }; " +
            $"add rule ip seedlab_partition from_director ip saddr {d3.Address} drop");
        var reweighted = SeedLab.RealServers[3];
        var d2 = SeedLab.Directors[1];
        var r = t.Try("rt", 30_000, [.. tunlb, "adm", "-e", "-t", $"{SeedLab.Vip}:80", "-r", reweighted.Address, "-w", "3",
            "--api", $"{d2.Address}:{SeedLab.ApiPort}", "--token", SeedLab.ApiToken]);
        if (r.ExitCode != 0) throw new InvalidOperationException($"tunlb adm -e on {d2.Role}: {r.Stderr}{r.Stdout}");
        o.WriteLine($"\n  Making the directors disagree: {rs.Role} drops everything from {d3.Role}; {d2.Role} gets weight 3 for {reweighted.Role} (tunlb adm -e)");
        var sw = Stopwatch.StartNew();
        while (sw.ElapsedMilliseconds < 20_000 && RealStatus(t, d3, rs.Address) != "down") Thread.Sleep(200);
        o.WriteLine($"    {d3.Role} sees {rs.Role} {RealStatus(t, d3, rs.Address)} after {sw.ElapsedMilliseconds} ms");
        return (rs.Address, reweighted.Address);
    }

    public static Sh.Result ClusterView(Topology t, string[] tunlb) =>
        t.Try("rt", 60_000, [.. tunlb, "adm", "-L", "-n", "--cluster", ClusterList, "--token", SeedLab.ApiToken]);

    private static string? RealStatus(Topology t, SeedDirector d, string address)
    {
        using var doc = SeedProbe.Api(t, d, "api/v1/services");
        if (doc is null) return null;
        foreach (var svc in doc.RootElement.EnumerateArray())
            foreach (var real in svc.GetProperty("reals").EnumerateArray())
                if (real.GetProperty("address").GetString() == address &&
                    real.TryGetProperty("health", out var h) && h.ValueKind == JsonValueKind.Object)
                    return h.GetProperty("status").GetString();
        return null;
    }
}
