using System.Globalization;
using System.Text;
using TunLB.Control.Configuration;
using TunLB.Director.Management;

namespace TunLB.Director.Api;

/// <summary>
/// Renders the running state as a TunLB director config file (GET /api/v1/config.toml), so runtime changes
/// made through the API can be saved: the output is accepted by <see cref="ConfigLoader.ParseDirector"/> and
/// describes the same services, reals, weights, thresholds, schedulers and timeouts.
/// </summary>
public static class ConfigRenderer
{
    public static string Render(DirectorState state)
    {
        var sb = new StringBuilder();
        var view = state.View; // one published view: no lock, no working copy
        {
            // The timeouts are the running ones (the API can change them); everything else is as started.
            var t = Dtos.Timeouts(state.Timeouts);
            var d = view.Settings with { TimeoutTcp = t.Tcp, TimeoutTcpFin = t.TcpFin, TimeoutUdp = t.Udp };
            sb.Append("# TunLB director configuration, rendered from the running state by GET /api/v1/config.toml\n");
            sb.Append(CultureInfo.InvariantCulture, $"# at {DateTimeOffset.UtcNow:yyyy-MM-dd'T'HH:mm:ss'Z'}; it includes changes made through the API since the last reload.\n\n");
            sb.Append("[director]\n");
            foreach (var key in DirectorKeys.All)
                if (key.Toml(d) is { } value) Kv(sb, key.Name, value);
            if (state.Sync.Service is { } sync)
            {
                sb.Append("\n[sync]\n");
                foreach (var key in DirectorKeys.Sync)
                    if (key.Toml(sync.Settings) is { } value) Kv(sb, key.Name, value);
            }

            foreach (var e in view.Services)
            {
                var vs = e.Service;
                sb.Append("\n[[service]]\n");
                Kv(sb, "vip", Str(vs.Key.Vip.ToString()));
                Kv(sb, "port", Int(vs.Key.Port));
                Kv(sb, "protocol", Str(e.ProtocolName));
                Kv(sb, "scheduler", Str(e.Scheduler));
                if (e.Flags.Length > 0) Kv(sb, "scheduler_flags", "[" + string.Join(", ", e.Flags.Select(Str)) + "]");
                Kv(sb, "mh_table_size", Int(e.MhTableSize));
                Kv(sb, "persistence", Int(vs.PersistenceSeconds));
                Kv(sb, "persistence_netmask", Int(vs.PersistencePrefix));
                var hs = e.HealthSpec;
                if (hs.TracksQuorum)
                {
                    Kv(sb, "quorum", Int(hs.Quorum));
                    Kv(sb, "hysteresis", Int(hs.Hysteresis));
                    if (hs.QuorumUp.Length > 0) Kv(sb, "quorum_up", Str(hs.QuorumUp));
                    if (hs.QuorumDown.Length > 0) Kv(sb, "quorum_down", Str(hs.QuorumDown));
                }
                if (hs.Check.Enabled) RenderCheck(sb, "service.check", hs.Check);
                if (hs.Sorry is { } sorry)
                {
                    sb.Append("\n[service.sorry]\n");
                    Kv(sb, "address", Str(sorry.Address.ToString()));
                    Kv(sb, "port", Int(sorry.Port));
                    Kv(sb, "weight", Int(sorry.Weight));
                }
                foreach (var real in e.Reals)
                {
                    if (real.IsSorry) continue; // rendered as [service.sorry] above
                    var r = real.Dest;
                    sb.Append("\n[[service.real]]\n");
                    var n = RealServerFieldNames.Config;
                    Kv(sb, n.Address, Str(r.Address.ToString()));
                    Kv(sb, n.Port, Int(r.Port));
                    Kv(sb, n.Weight, Int(real.ConfiguredWeight)); // not the effective weight (health, drain)
                    Kv(sb, n.UpperThreshold, Int(r.UpperThreshold));
                    Kv(sb, n.LowerThreshold, Int(r.LowerThreshold));
                    if (r.Encap == TunLB.Core.Packets.EncapKind.Gue)
                    {
                        Kv(sb, n.Encap, Str(r.Encap.ConfigName()));
                        Kv(sb, n.GuePort, Int(r.GuePort));
                        Kv(sb, n.GueChecksum, Bool(r.GueChecksum));
                    }
                    var (site, provider) = state.EgressResults.Metadata(r.Address);
                    if (site is not null) Kv(sb, n.Site, Str(site));
                    if (provider is not null) Kv(sb, n.Provider, Str(provider));
                    if (hs.PerReal.TryGetValue(r.Address, out var rc) && rc != hs.Check) RenderCheck(sb, "service.real.check", rc);
                }
            }
        }
        return sb.ToString();
    }

    /// <summary>Every key of a check table, so the file says exactly what runs.</summary>
    private static void RenderCheck(StringBuilder sb, string header, TunLB.Health.CheckSpec c)
    {
        sb.Append('\n').Append('[').Append(header).Append("]\n");
        Kv(sb, "type", Str(c.Type));
        if (c.Port != 0) Kv(sb, "port", Int(c.Port));
        if (c.Type is "http" or "https")
        {
            Kv(sb, "path", Str(c.Path));
            Kv(sb, "expect_status", Str(c.ExpectStatus));
            Kv(sb, "expect_body", Str(c.ExpectBody));
            Kv(sb, "host", Str(c.Host));
            if (c.Type == "https") Kv(sb, "tls_skip_verify", Bool(c.TlsSkipVerify));
        }
        if (c.Type == "udp") { Kv(sb, "payload", Str(c.Payload)); Kv(sb, "expect", Str(c.Expect)); Kv(sb, "require_reply", Bool(c.RequireReply)); }
        if (c.Type == "dns") { Kv(sb, "query_name", Str(c.QueryName)); Kv(sb, "query_type", Str(c.QueryType)); Kv(sb, "require_answer", Bool(c.RequireAnswer)); }
        if (c.Type == "misc") { Kv(sb, "command", Str(c.Command)); Kv(sb, "dynamic", Bool(c.Dynamic)); }
        Kv(sb, "interval", Num(c.IntervalSeconds));
        Kv(sb, "timeout", Num(c.TimeoutSeconds));
        Kv(sb, "rise", Int(c.Rise));
        Kv(sb, "fall", Int(c.Fall));
        Kv(sb, "alpha", Bool(c.Alpha));
        Kv(sb, "via", Str(c.Via));
        Kv(sb, "on_failure", Str(c.OnFailure == TunLB.Health.FailureAction.Inhibit ? "inhibit" : "remove"));
        if (c.Dampening is { } d)
            Kv(sb, "dampening", $"{{ penalty = {Num(d.Penalty)}, suppress = {Num(d.Suppress)}, reuse = {Num(d.Reuse)}, half_life = {Num(d.HalfLifeSeconds)} }}");
    }

    private static string Num(double v)
    {
        var t = v.ToString("R", CultureInfo.InvariantCulture);
        return t.Contains('.') || t.Contains('E') ? t : t + ".0";
    }

    private static void Kv(StringBuilder sb, string key, string value) => sb.Append(key).Append(" = ").Append(value).Append('\n');
    private static string Int(long v) => TomlValue.Int(v);
    private static string Bool(bool b) => TomlValue.Bool(b);

    /// <summary>A TOML basic string with every character that needs it escaped.</summary>
    public static string Str(string s) => TomlValue.String(s);
}
