using System.Text;
using TunLB.Control.Configuration;
using TunLB.Core.Egress;
using TunLB.Core.Packets;
using TunLB.Director.Management;
using static TunLB.Director.Api.Status.StatusText;

namespace TunLB.Director.Api.Status;

/// <summary>
/// The status page (GET / and /status): complete HTML at first load, readable without scripts; the script then
/// refreshes the live part from <c>status/live</c> (the same renderer) every 2 s and appends events from the event
/// stream. Every URL is relative, so the page works behind a reverse proxy under a path prefix. No external assets.
/// </summary>
internal static class StatusPage
{
    public const string ContentType = "text/html; charset=utf-8";

    public static string Page(DirectorState state, DateTimeOffset now)
    {
        var sb = new StringBuilder(32 * 1024);
        var host = Environment.MachineName;
        sb.Append("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">")
          .Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
          .Append("<title>TunLB · ").Append(H(host)).Append("</title><style>").Append(StatusAssets.Css).Append("</style></head><body>");
        sb.Append("<header><h1>TunLB <span>director ").Append(H(host)).Append("</span></h1>")
          .Append("<div class=\"tools\"><span id=\"live-state\" class=\"muted\">static page (scripts off): reload to refresh</span>")
          .Append("<label>API token <input id=\"token\" type=\"password\" autocomplete=\"off\" placeholder=\"for admin actions\"></label>")
          .Append("<span id=\"msg\" role=\"status\"></span></div></header>");
        sb.Append("<main id=\"live\">");
        Live(sb, state, now);
        sb.Append("</main><div class=\"wrap\">");
        Events(sb, state);
        sb.Append("</div>");
        sb.Append("<footer>TunLB ").Append(H(typeof(DirectorState).Assembly.GetName().Version?.ToString(3)))
          .Append(" · JSON: <a href=\"api/v1/services\">services</a> <a href=\"api/v1/health\">health</a> <a href=\"api/v1/events\">events</a> ")
          .Append("<a href=\"api/v1/history\">history</a> <a href=\"metrics\">metrics</a></footer>");
        sb.Append("<script>").Append(StatusAssets.Js).Append("</script></body></html>");
        return sb.ToString();
    }

    /// <summary>The part the script replaces every few seconds: director, graphs, services, egress answers.</summary>
    public static string Live(DirectorState state, DateTimeOffset now)
    {
        var sb = new StringBuilder(24 * 1024);
        Live(sb, state, now);
        return sb.ToString();
    }

    private static void Live(StringBuilder sb, DirectorState state, DateTimeOffset now)
    {
        var view = state.View;
        sb.Append("<p class=\"stamp\">as of <time datetime=\"").Append(Iso(now)).Append("\">").Append(Time(now)).Append("</time></p>");
        Director(sb, state, view, now);
        StatusGraphs.Render(sb, state.History.Samples());
        StatusServices.Render(sb, view, now);
        Egress(sb, state);
    }

    private static void Director(StringBuilder sb, DirectorState state, DirectorView view, DateTimeOffset now)
    {
        var io = state.Io;
        var drops = state.Drops();
        long total = 0;
        var reasons = new List<string>();
        for (int i = 1; i < drops.Length; i++)
            if (drops[i] != 0) { total += drops[i]; reasons.Add($"{DropReasons.Names[i]} {Si(drops[i])}"); }
        long forwarded = state.Engines.Sum(e => e.ForwardedPackets);
        int count = state.ConnectionCount, cap = Math.Max(1, state.ConnectionCapacity);
        double fill = 100.0 * count / cap;
        string reload = state.ReloadsOk + state.ReloadsFailed == 0 ? "none since start"
            : $"{Time(state.LastReloadTime)} ({Duration(now - state.LastReloadTime)} ago): " + (state.LastReloadOk ? "<span class=\"ok\">ok</span>" : "<span class=\"bad\">failed, nothing changed</span>");
        string capture = state.CaptureSummary?.Invoke() ?? "";
        var a = state.Announcement;
        string announce = !view.Settings.Announce ? "off"
            : (a.Drained ? "<span class=\"st drain\">DRAINED</span> " : "") + (a.Last.Announced.Count == 0 ? "nothing" : H(string.Join(", ", a.Last.Announced)));
        sb.Append("<section class=\"director\"><h2>Director</h2><dl class=\"facts\">")
          .Append("<div><dt>io backend</dt><dd>").Append(H(io is null ? "none (no data path)" : io.Backend.ConfigName() + (io.Requested != io.Backend ? $" (asked {io.Requested.ConfigName()})" : ""))).Append("</dd></div>")
          .Append("<div><dt>workers</dt><dd>").Append(state.Engines.Length).Append("</dd></div>")
          .Append("<div><dt>packets forwarded</dt><dd>").Append(Si(forwarded)).Append(" <small>").Append(Bytes(state.Sent.Bytes)).Append(" in tunnels</small></dd></div>")
          .Append("<div><dt>connection table</dt><dd>").Append(Si(count)).Append(" / ").Append(Si(cap))
          .Append($" <meter min=\"0\" max=\"100\" high=\"80\" value=\"{fill:0.#}\"></meter> <small>{fill:0.#}%</small></dd></div>")
          .Append("<div><dt>drops</dt><dd>").Append(Si(total)).Append(reasons.Count > 0 ? " <small>" + H(string.Join(", ", reasons)) + "</small>" : "").Append("</dd></div>")
          .Append("<div><dt>ring / queue</dt><dd>").Append(capture.Length > 0 ? H(capture) : "<span class=\"muted\">no capture counters</span>")
          .Append(" <small>table full: evicted ").Append(Si(state.Evictions)).Append(", refused ").Append(Si(state.Refusals)).Append("</small></dd></div>")
          .Append("<div><dt>uptime</dt><dd>").Append(Duration(now - state.StartedAt)).Append(" <small>since ").Append(Time(state.StartedAt)).Append("</small></dd></div>")
          .Append("<div><dt>config</dt><dd><code>").Append(H(state.ConfigPath)).Append("</code></dd></div>")
          .Append("<div><dt>last reload</dt><dd>").Append(reload).Append("</dd></div>")
          .Append("<div><dt>announce</dt><dd>").Append(announce).Append("</dd></div>")
          .Append("</dl></section>");
    }

    private static void Egress(StringBuilder sb, DirectorState state)
    {
        var all = state.Egress.Snapshot();
        sb.Append("<section class=\"egress\"><h2>Egress-check answers <small>").Append(Si(state.Egress.Recorded)).Append(" recorded</small></h2>");
        if (all.Count == 0) { sb.Append("<p class=\"muted\">none recorded (run <code>tunlb egress-check</code> on a real server)</p></section>"); return; }
        long nowMs = Environment.TickCount64;
        sb.Append("<div class=\"scroll\"><table><thead><tr><th>age</th><th>real (probe source)</th><th>target</th><th>hop</th><th>answered by</th><th>answer</th></tr></thead><tbody>");
        foreach (var e in all.TakeLast(12).Reverse())
            sb.Append("<tr><td>").Append(Duration(TimeSpan.FromMilliseconds(nowMs - e.TimeMs))).Append("</td><td>").Append(EgressVerdict.Fmt(e.ProbeSource))
              .Append("</td><td>").Append(EgressVerdict.Fmt(e.Target)).Append("</td><td>").Append(e.Ttl).Append("</td><td>").Append(EgressVerdict.Fmt(e.From))
              .Append("</td><td>").Append(H(IcmpErrorV4.Describe(e.Type, e.Code))).Append("</td></tr>");
        sb.Append("</tbody></table></div></section>");
    }

    private static void Events(StringBuilder sb, DirectorState state)
    {
        var (events, last) = state.Events.Since(Math.Max(0, state.Events.Next - 101));
        sb.Append("<section class=\"events\"><h2>Events</h2><ol id=\"events\" data-last=\"").Append(last).Append("\" reversed>");
        foreach (var e in events.Reverse()) sb.Append(EventItem(e));
        sb.Append("</ol></section>");
    }

    public static string EventItem(DirectorEvent e) =>
        $"<li class=\"ev {H(e.Kind)}\" data-id=\"{e.Id}\"><time datetime=\"{Iso(e.Time)}\">{Time(e.Time)}</time> <b>{H(e.Kind)}</b> " +
        (e.Service is null ? "" : $"<span class=\"svc\">{H(e.Service)}</span> ") + (e.Real is null ? "" : $"<span class=\"real\">{H(e.Real)}</span> ") +
        $"<span class=\"m\">{H(e.Message)}</span></li>";
}
