using System.Text;
using TunLB.Core.Packets;
using TunLB.Director.Management;
using static TunLB.Director.Api.Status.StatusText;

namespace TunLB.Director.Api.Status;

/// <summary>One table per service, one row per real server (the status page's main part).</summary>
internal static class StatusServices
{
    public static void Render(StringBuilder sb, DirectorView view, DateTimeOffset now)
    {
        if (view.Services.Count == 0) sb.Append("<p class=\"none\">No services. Add one with <code>tunlb adm -A</code> or the config file.</p>");
        foreach (var s in view.Services) Service(sb, s, now);
    }

    private static void Service(StringBuilder sb, ServiceView s, DateTimeOffset now)
    {
        var name = EventKinds.ServiceName(s.Key);
        var hs = s.HealthSpec;
        string quorum = !hs.TracksQuorum ? "<span class=\"st up\">n/a</span>"
            : s.QuorumUp ? $"<span class=\"st up\">UP</span> <small>live weight {s.LiveWeight} ≥ {hs.Quorum}</small>"
            : $"<span class=\"st down\">LOST</span> <small>live weight {s.LiveWeight} &lt; {hs.Quorum}</small>";
        string sorry = hs.Sorry is not { } ss ? "none"
            : $"{H(Format.Endpoint(ss.Address, ss.Port))} " + (s.SorryActive ? "<span class=\"st down\">IN USE</span>" : "<small>standby</small>");
        string persistence = s.PersistenceSeconds > 0 ? $"{s.PersistenceSeconds} s /{s.PersistencePrefix}" : "off";
        string sched = s.Flags.Length > 0 ? $"{s.Scheduler} ({string.Join(",", s.Flags)})" : s.Scheduler;
        string svcCheck = hs.Check.Enabled ? hs.Check.Describe(s.Key.Port) : "none";
        var rates = s.Rates;
        sb.Append("<section class=\"service\" data-service=\"").Append(H(name)).Append("\">");
        sb.Append("<h2>").Append(H(name)).Append("</h2>");
        sb.Append("<dl class=\"facts\">")
          .Append("<div><dt>scheduler</dt><dd>").Append(H(sched)).Append("</dd></div>")
          .Append("<div><dt>persistence</dt><dd>").Append(H(persistence)).Append("</dd></div>")
          .Append("<div><dt>quorum</dt><dd>").Append(quorum).Append("</dd></div>")
          .Append("<div><dt>sorry server</dt><dd>").Append(sorry).Append("</dd></div>")
          .Append("<div><dt>connections</dt><dd>").Append(Si(s.Service.Connections)).Append(" <small>").Append(Si(rates.Cps)).Append("/s</small></dd></div>")
          .Append("<div><dt>in</dt><dd>").Append(Si(rates.InPps)).Append(" pkt/s, ").Append(Bytes(rates.InBps)).Append("/s</dd></div>")
          .Append("<div><dt>check</dt><dd>").Append(H(svcCheck)).Append("</dd></div>")
          .Append("</dl>");
        sb.Append("<div class=\"scroll\"><table class=\"reals\"><thead><tr>")
          .Append("<th>real server</th><th>state</th><th>weight</th><th>active</th><th>inactive</th>")
          .Append("<th>new conn/s</th><th>pkt/s in</th><th>bytes/s in</th><th>last check</th><th>reason</th>")
          .Append("<th>failed</th><th>down for</th><th>encap</th><th>path MTU</th><th class=\"admin\">admin</th></tr></thead><tbody>");
        var reals = s.Reals.ToList();
        if (s.StandbySorry is { } standby) reals.Add(standby);
        if (reals.Count == 0) sb.Append("<tr><td colspan=\"15\" class=\"none\">no real servers</td></tr>");
        foreach (var r in reals) Real(sb, s, r, now);
        sb.Append("</tbody></table></div></section>");
    }

    /// <summary>UP, DOWN, DRAIN, MAINT (operator or agent), SORRY / STANDBY for a sorry server.</summary>
    public static string State(RealView r)
    {
        var h = r.Health;
        if (h is null) return "UP";
        if (h.IsSorry) return h.Status == "sorry" ? "SORRY" : "STANDBY";
        if (h.Maintenance || h.Admin == TunLB.Health.AgentAdmin.Maint) return "MAINT";
        if (h.Draining || h.Admin == TunLB.Health.AgentAdmin.Drain) return "DRAIN";
        return h.Up ? "UP" : "DOWN";
    }

    private static void Real(StringBuilder sb, ServiceView s, RealView r, DateTimeOffset now)
    {
        var d = r.Dest;
        var h = r.Health;
        string state = State(r);
        string addr = Format.Endpoint(d.Address, d.Port);
        var last = h?.Last;
        bool checkedReal = h is not null && h.Spec.Enabled && !h.IsSorry;
        string path = $"api/v1/services/{s.ProtocolName}/{Uri.EscapeDataString(s.Key.Vip.ToString())}/{s.Key.Port}/reals/{Uri.EscapeDataString(d.Address.ToString())}/{d.Port}";
        string encap = (d.Encap == EncapKind.Gue ? $"GUE :{d.GuePort}" : "IPIP") + (d.Address.IsV4 ? "" : " (IPv6)");
        sb.Append("<tr class=\"").Append(state.ToLowerInvariant()).Append("\" data-real=\"").Append(H(addr)).Append("\" data-state=\"").Append(state).Append("\">");
        sb.Append("<td class=\"name\">").Append(H(addr)).Append(r.IsSorry ? " <small>sorry</small>" : "").Append("</td>");
        sb.Append("<td><span class=\"st ").Append(state.ToLowerInvariant()).Append("\">").Append(state).Append("</span>")
          .Append(h is null ? "" : $" <small title=\"for how long\">{Duration(now - h.LastChange)}</small>")
          .Append(h?.Suppressed == true ? " <small title=\"flap dampening\">damped</small>" : "").Append("</td>");
        sb.Append("<td>").Append(d.Weight).Append(d.Weight != r.ConfiguredWeight ? $" <small>of {r.ConfiguredWeight}</small>" : "").Append("</td>");
        sb.Append("<td>").Append(d.ActiveConnections).Append("</td><td>").Append(d.InactiveConnections).Append("</td>");
        sb.Append("<td>").Append(Si(r.Rates?.Cps ?? 0)).Append("</td><td>").Append(Si(r.Rates?.InPps ?? 0)).Append("</td><td>").Append(Bytes(r.Rates?.InBps ?? 0)).Append("</td>");
        if (checkedReal)
        {
            string result = last is null ? "<span class=\"muted\">pending</span>" : last.Ok ? "<span class=\"ok\">OK</span>" : "<span class=\"bad\">FAIL</span>";
            // Kind, result, how long it took, how long ago: one cell; the reason in the next.
            sb.Append("<td title=\"").Append(H(h!.Spec.Describe(d.Port))).Append("\">").Append(H(h.Spec.Type)).Append(' ').Append(result)
              .Append(last is null ? "" : $" {last.Duration.TotalMilliseconds:0} ms")
              .Append(h.LastCheck is { } lc ? $" <small>{Duration(now - lc)} ago</small>" : "").Append("</td>");
            sb.Append("<td class=\"reason\">").Append(H(last?.Detail)).Append("</td>");
        }
        else sb.Append("<td class=\"muted\">none</td><td></td>");
        sb.Append("<td>").Append(h?.Failures ?? 0).Append("</td>");
        sb.Append("<td>").Append(state == "DOWN" && h is not null ? Duration(now - h.LastChange) : "").Append("</td>");
        sb.Append("<td>").Append(H(encap)).Append("</td><td>").Append(d.Mtu > 0 ? d.Mtu.ToString(System.Globalization.CultureInfo.InvariantCulture) : "?").Append("</td>");
        sb.Append("<td class=\"admin\">");
        if (!r.IsSorry)
        {
            sb.Append("<form class=\"act\" data-path=\"").Append(H(path)).Append("\" method=\"post\" action=\"").Append(H(path)).Append("/drain\">")
              .Append("<button type=\"button\" data-op=\"drain\">Drain</button>")
              .Append("<button type=\"button\" data-op=\"maint\">Maint</button>")
              .Append("<button type=\"button\" data-op=\"ready\">Ready</button>")
              .Append("<input type=\"number\" min=\"0\" max=\"65535\" name=\"weight\" aria-label=\"weight\" value=\"").Append(r.ConfiguredWeight).Append("\">")
              .Append("<button type=\"button\" data-op=\"weight\">Set</button></form>");
        }
        sb.Append("</td></tr>");
    }
}
