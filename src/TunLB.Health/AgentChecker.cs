using System.Diagnostics;
using System.Text;

namespace TunLB.Health;

/// <summary>
/// agent: HAProxy's agent-check. Connect to the agent port, read one line (up to 1 kB or the close), and
/// interpret its words (<see cref="AgentReply.Parse"/>). The check fails when the agent cannot be reached
/// or says down/fail/stopped; "drain", "maint", "ready" and weights change the server's admin state and
/// weight without changing its health.
/// </summary>
public sealed class AgentChecker : IHealthChecker
{
    public async Task<CheckResult> CheckAsync(CheckContext ctx, CancellationToken ct)
    {
        var sw = Stopwatch.StartNew();
        using var deadline = Checkers.Deadline(ctx, ct);
        string phase = "connect";
        try
        {
            var (s, lease) = await Checkers.ConnectTcpAsync(ctx, deadline.Token).ConfigureAwait(false);
            using (lease)
            using (s)
            {
                phase = "read";
                var buf = new byte[1024];
                int len = 0;
                while (len < buf.Length)
                {
                    int n = await s.ReceiveAsync(buf.AsMemory(len), System.Net.Sockets.SocketFlags.None, deadline.Token).ConfigureAwait(false);
                    if (n == 0) break;
                    len += n;
                    if (Array.IndexOf(buf, (byte)'\n', 0, len) >= 0) break;
                }
                var line = Encoding.ASCII.GetString(buf, 0, len).Split('\n')[0].Trim();
                return AgentReply.Parse(line, sw.Elapsed);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { throw; }
        catch (Exception e) { return CheckResult.Fail(Checkers.Describe(e, ctx, phase), sw.Elapsed); }
    }
}

/// <summary>
/// The agent-check reply language (HAProxy): words separated by commas or spaces, in any order; the text after
/// '#' is a description. up / down / fail / stopped (health); ready / drain / maint (admin state); "75%"
/// (percent of the configured weight); "weight:N" (absolute weight N, or "weight:N%" as a percentage);
/// "maxconn:N" is accepted and ignored. Unknown words are ignored, as HAProxy does; an empty reply fails.
/// </summary>
public static class AgentReply
{
    public static CheckResult Parse(string line, TimeSpan duration)
    {
        var text = line;
        int hash = text.IndexOf('#');
        string description = hash >= 0 ? text[(hash + 1)..].Trim() : "";
        if (hash >= 0) text = text[..hash];
        var words = text.Split([',', ' ', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (words.Length == 0) return CheckResult.Fail("agent sent an empty reply", duration);

        bool? up = null;
        var admin = AgentAdmin.Unchanged;
        int? percent = null, weight = null;
        foreach (var raw in words)
        {
            var w = raw.ToLowerInvariant();
            switch (w)
            {
                case "up": up = true; break;
                case "down" or "fail" or "failed" or "stopped": up = false; break;
                case "ready": admin = AgentAdmin.Ready; break;
                case "drain": admin = AgentAdmin.Drain; break;
                case "maint": admin = AgentAdmin.Maint; break;
                default:
                    if (w.EndsWith('%') && int.TryParse(w[..^1], out var p) && p >= 0) percent = Math.Min(p, 256 * 100);
                    else if (w.StartsWith("weight:", StringComparison.Ordinal))
                    {
                        var v = w["weight:".Length..];
                        if (v.EndsWith('%') && int.TryParse(v[..^1], out var pp) && pp >= 0) percent = pp;
                        else if (int.TryParse(v, out var ww) && ww >= 0) weight = Math.Min(ww, 65535);
                    }
                    break; // maxconn:N and unknown words: ignored
            }
        }
        string detail = $"agent: \"{line.Trim()}\"";
        var result = up == false ? CheckResult.Fail(detail + (description.Length > 0 ? "" : ""), duration) : CheckResult.Pass(detail, duration);
        return result with { Admin = admin, WeightPercent = percent, Weight = weight };
    }
}
