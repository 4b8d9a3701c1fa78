namespace TunLB.Lab;

/// <summary>The seed demo's egress check: `tunlb egress-check` from one real server of each datacenter toward the target,
/// answers collected by `tunlb egress-listen` on the router (which sees the VIP's traffic whichever director gets it).</summary>
public static class SeedEgress
{
    private static BackgroundProcess Start(Topology t, string[] tunlb, SeedDatacenter dc, SeedRealServer rs) =>
        t.Start(rs.Role, "egress-check-" + dc.Role, tunlb[0], [.. tunlb[1..], "egress-check", "--vip", SeedLab.Vip,
            "--target", SeedLab.Target, "--listener", $"http://{SeedLab.Router}:{SeedLab.EgressListenPort}",
            "--token", SeedLab.ApiToken, "--max-hops", "8", "--timeout", "2"]);

    private static string? Verdict(BackgroundProcess p) => p.Output.Split('\n').Select(l => l.Trim())
        .FirstOrDefault(l => l.StartsWith("ALLOWED") || l.StartsWith("BLOCKED") || l.StartsWith("INCONCLUSIVE"));

    public static void Run(TextWriter o, Topology t, string[] tunlb, SeedDemoResult res)
    {
        o.WriteLine($"\n  Egress check from each datacenter (may a real server send with the VIP as source? target {SeedLab.Target}):");
        // One check at a time: on a loaded machine five at once kept the listener from answering a poll within
        // egress-check's 3 s (no verdict); the listener's first answer is slow (JIT), so warm it up first.
        t.Try("rt", 30_000, "curl", "-s", "--max-time", "20", "-o", "/dev/null", "-H", $"Authorization: Bearer {SeedLab.ApiToken}",
            $"http://{SeedLab.Router}:{SeedLab.EgressListenPort}/api/v1/egress/answers?session=0000000000000000");
        foreach (var dc in SeedLab.Datacenters)
        {
            var rs = SeedLab.RealServers.First(r => r.Datacenter == dc);
            string? verdict = null;
            BackgroundProcess? p = null;
            for (int attempt = 0; attempt < 2 && verdict == null; attempt++)
            {
                p = Start(t, tunlb, dc, rs);
                // A check takes about 3 s; at a load average of 60 one went past 30 s without a verdict.
                if (!p.WaitForExit(45_000)) p.Stop(9);
                verdict = Verdict(p);
            }
            verdict ??= "no verdict";
            res.EgressVerdicts[dc.Role] = verdict;
            bool expected = dc.Filtered ? verdict.StartsWith("BLOCKED") : verdict.StartsWith("ALLOWED");
            o.WriteLine($"    {dc.Name,-24} {rs.Role,-5} provider {dc.Provider,-36} -> {verdict}");
            if (!expected) res.Problems.Add($"egress check in {dc.Role}: {verdict}\n{p!.Output}");
        }
        var blocked = res.EgressVerdicts.Where(kv => kv.Value.StartsWith("BLOCKED")).Select(kv => kv.Key).ToList();
        if (blocked.Count > 0)
            o.WriteLine($"    named: {string.Join(", ", blocked)}: its provider drops VIP-sourced packets beyond its first hops; its real servers " +
                        "still reach our clients over the provider's peering with the client network, but not the rest of the internet.");
    }
}
