using System.Text.Json;
using System.Text.RegularExpressions;
using TunLB.Lab;
using Xunit.Abstractions;

namespace TunLB.EndToEnd.Tests;

/// <summary>One egress check on a fresh lab: the JSON verdict, the text output (when asked for), the listener's log and the manual procedure.</summary>
public sealed record EgressRun(int ExitCode, JsonElement Json, EgressManualResult Manual, string Listener, string Text);

/// <summary>What <see cref="EgressCheckTests"/> and <see cref="EgressCheckV6Tests"/> share: build, check, compare, remove.</summary>
internal static class EgressRuns
{
    /// <summary>
    /// Builds a lab with <paramref name="build"/>, starts the listener, runs `egress-check --json` (and, with
    /// <paramref name="textArgs"/>, once more as text with them: same exit code), then the manual procedure; the lab is
    /// removed afterwards, also on failure.
    /// </summary>
    public static EgressRun Check(ITestOutputHelper log, Func<string, IEgressLab> build, string token, string[]? textArgs = null)
    {
        var tunlb = Tunlb.Command();
        var prefix = Topology.NewPrefix();
        var work = Path.Combine(Path.GetTempPath(), prefix + "egress");
        var lab = build(prefix);
        try
        {
            var listener = lab.StartListener(tunlb, token);
            var r = lab.RunCheck(tunlb, token, "--json");
            log.WriteLine($"egress-check exit {r.ExitCode}\n{r.Stdout}\n{r.Stderr}");
            Assert.False(string.IsNullOrWhiteSpace(r.Stdout), $"no output; stderr: {r.Stderr}");
            var json = JsonDocument.Parse(r.Stdout).RootElement.Clone();
            string text = "";
            if (textArgs is not null)
            {
                var t = lab.RunCheck(tunlb, token, textArgs);
                log.WriteLine(t.Stdout);
                Assert.Equal(r.ExitCode, t.ExitCode);
                text = t.Stdout;
            }
            var manual = lab.RunManualProcedure(work);
            log.WriteLine($"manual: {manual.IcmpToVip} ICMP to the VIP at the director, {manual.PortUnreachableFromTarget} unreachable from the target, routers {string.Join(' ', manual.RoutersSeen)}\n{manual.Traceroute}\nown address:\n{manual.OwnTraceroute}");
            log.WriteLine("listener:\n" + listener.Output);
            return new EgressRun(r.ExitCode, json, manual, listener.Output, text);
        }
        finally
        {
            lab.Topology.Dispose();
            try { Directory.Delete(work, true); } catch { }
        }
    }

    /// <summary>A JSON property as text ("" for null).</summary>
    public static string S(JsonElement j, string name) => j.GetProperty(name).ValueKind == JsonValueKind.Null ? "" : j.GetProperty(name).ToString();

    /// <summary>True when a traceroute output has a hop line answered by <paramref name="target"/>.</summary>
    public static bool ReachedTarget(string traceroute, string target) =>
        Regex.IsMatch(traceroute, @"^\s*\d+\s+" + Regex.Escape(target) + @"\s", RegexOptions.Multiline);
}
