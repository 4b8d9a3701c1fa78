using System.Globalization;
using System.Text;
using TunLB.Director.Management;

namespace TunLB.Director.Api.Status;

/// <summary>Small inline SVG line graphs of the director's last 10 minutes (<see cref="History"/>).</summary>
internal static class StatusGraphs
{
    private const int W = 300, Hgt = 60;

    public static void Render(StringBuilder sb, HistorySample[] samples)
    {
        sb.Append("<section class=\"graphs\" aria-label=\"last 10 minutes\">");
        Graph(sb, "packets/s in", samples, s => s.InPps, StatusText.Si);
        Graph(sb, "bytes/s in", samples, s => s.InBps, v => StatusText.Bytes(v) + "/s");
        Graph(sb, "new connections/s", samples, s => s.Cps, StatusText.Si);
        Graph(sb, "connection table entries", samples, s => s.Connections, StatusText.Si);
        Graph(sb, "drops/s", samples, s => s.DropsPerSecond, StatusText.Si);
        sb.Append("</section>");
    }

    private static void Graph(StringBuilder sb, string title, HistorySample[] samples, Func<HistorySample, double> value, Func<double, string> fmt)
    {
        var inv = CultureInfo.InvariantCulture;
        double max = 0, last = 0;
        foreach (var s in samples) max = Math.Max(max, value(s));
        if (samples.Length > 0) last = value(samples[^1]);
        sb.Append("<figure class=\"graph\"><figcaption>").Append(StatusText.H(title)).Append(" <b>").Append(StatusText.H(fmt(last)))
          .Append("</b> <small>max ").Append(StatusText.H(fmt(max))).Append("</small></figcaption>");
        sb.Append(inv, $"<svg viewBox=\"0 0 {W} {Hgt}\" preserveAspectRatio=\"none\" role=\"img\" aria-label=\"{StatusText.H(title)}\">");
        if (samples.Length >= 2)
        {
            // x: the samples' span (at least a minute, at most the 10 minutes kept) ending at the last one; y: 0..max.
            double top = max > 0 ? max * 1.1 : 1;
            var now = samples[^1].Time;
            double window = Math.Clamp((now - samples[0].Time).TotalSeconds, 60, 600);
            var pts = new StringBuilder();
            foreach (var s in samples)
            {
                double x = W - (now - s.Time).TotalSeconds / window * W;
                double y = Hgt - value(s) / top * (Hgt - 2) - 1;
                pts.Append(inv, $"{x:0.#},{y:0.#} ");
            }
            double x0 = W - (now - samples[0].Time).TotalSeconds / window * W;
            sb.Append(inv, $"<polygon class=\"area\" points=\"{x0:0.#},{Hgt} {pts}{W},{Hgt}\"/>");
            sb.Append("<polyline class=\"line\" points=\"").Append(pts).Append("\"/>");
        }
        else sb.Append(inv, $"<text x=\"{W / 2}\" y=\"{Hgt / 2}\" text-anchor=\"middle\" class=\"empty\">collecting…</text>");
        sb.Append("</svg></figure>");
    }
}
