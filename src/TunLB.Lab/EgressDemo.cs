namespace TunLB.Lab;

/// <summary>
/// The egress part of `tunlb lab demo`: runs `tunlb egress-check` on an open provider and on one that filters spoofed
/// sources at its edge, each in its own namespaces, and prints the verdicts. Returns true when both are as expected.
/// </summary>
public static class EgressDemo
{
    public static bool Run(TextWriter o, string[] tunlb)
    {
        o.WriteLine();
        o.WriteLine("  Egress check (may the real server send with the VIP as source?):");
        bool ok = true;
        foreach (var scenario in new[] { EgressScenario.Open, EgressScenario.EdgeRpFilter })
        {
            EgressLab? lab = null;
            try
            {
                lab = EgressLab.Build(Topology.NewPrefix(), scenario);
                const string token = "lab-demo";
                lab.StartListener(tunlb, token);
                var r = lab.RunCheck(tunlb, token);
                var verdict = r.Stdout.Split('\n').FirstOrDefault(l => l.StartsWith("ALLOWED") || l.StartsWith("BLOCKED") || l.StartsWith("INCONCLUSIVE"))?.Trim() ?? $"no verdict (exit {r.ExitCode})";
                bool expected = verdict == EgressLab.ExpectedSummary(scenario);
                ok &= expected;
                string what = scenario == EgressScenario.Open ? "provider without filtering      " : "provider with strict rp_filter  ";
                o.WriteLine($"    {what} -> {verdict}{(expected ? "" : $"  (expected {EgressLab.ExpectedSummary(scenario)})")}");
            }
            catch (Exception e)
            {
                ok = false;
                o.WriteLine($"    {scenario}: failed: {e.Message}");
            }
            finally { lab?.Topology.Dispose(); }
        }
        return ok;
    }
}
