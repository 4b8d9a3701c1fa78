using System.Globalization;
using System.Text;
using TunLB.Control.Configuration;

namespace TunLB.Director.Management;

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
        lock (state.Gate)
        {
            var d = state.Settings;
            var t = state.GetTimeouts();
            sb.Append("# TunLB director configuration, rendered from the running state by GET /api/v1/config.toml\n");
            sb.Append(CultureInfo.InvariantCulture, $"# at {DateTimeOffset.UtcNow:yyyy-MM-dd'T'HH:mm:ss'Z'}; it includes changes made through the API since the last reload.\n\n");
            sb.Append("[director]\n");
            Kv(sb, "api", Str(d.Api));
            Kv(sb, "api_token", Str(d.ApiToken));
            Kv(sb, "tun_name", Str(d.TunName));
            Kv(sb, "tun_mtu", Int(d.TunMtu));
            Kv(sb, "ttl", Int(d.Ttl));
            Kv(sb, "conn_max", Int(d.ConnMax));
            Kv(sb, "conn_full_policy", Str(d.ConnFullPolicy));
            Kv(sb, "timeout_tcp", Int(t.Tcp));
            Kv(sb, "timeout_tcp_fin", Int(t.TcpFin));
            Kv(sb, "timeout_udp", Int(t.Udp));
            Kv(sb, "sloppy_tcp", Bool(d.SloppyTcp));
            Kv(sb, "expire_quiescent_template", Bool(d.ExpireQuiescentTemplate));
            Kv(sb, "restore_inner_ttl", Bool(d.RestoreInnerTtl));

            foreach (var e in state.EntriesUnlocked)
            {
                var vs = e.Vs;
                sb.Append("\n[[service]]\n");
                Kv(sb, "vip", Str(vs.Key.Vip.ToString()));
                Kv(sb, "port", Int(vs.Key.Port));
                Kv(sb, "protocol", Str(e.ProtocolName));
                Kv(sb, "scheduler", Str(e.Scheduler));
                if (e.Flags.Length > 0) Kv(sb, "scheduler_flags", "[" + string.Join(", ", e.Flags.Select(Str)) + "]");
                Kv(sb, "mh_table_size", Int(e.MhTableSize));
                Kv(sb, "persistence", Int(vs.PersistenceSeconds));
                Kv(sb, "persistence_netmask", Int(vs.PersistencePrefix));
                foreach (var r in vs.Destinations)
                {
                    if (state.HealthUnlocked.TryGetValue(r.Id, out var rh) && rh.IsSorry) continue; // rendered as [service.sorry] below
                    sb.Append("\n[[service.real]]\n");
                    Kv(sb, "address", Str(r.Address.ToString()));
                    Kv(sb, "port", Int(r.Port));
                    Kv(sb, "weight", Int(state.ConfiguredWeight(r))); // not the effective weight (health, drain)
                    Kv(sb, "upper_threshold", Int(r.UpperThreshold));
                    Kv(sb, "lower_threshold", Int(r.LowerThreshold));
                }
            }
        }
        return sb.ToString();
    }

    private static void Kv(StringBuilder sb, string key, string value) => sb.Append(key).Append(" = ").Append(value).Append('\n');
    private static string Int(long v) => v.ToString(CultureInfo.InvariantCulture);
    private static string Bool(bool b) => b ? "true" : "false";

    /// <summary>A TOML basic string with every character that needs it escaped.</summary>
    public static string Str(string s)
    {
        var sb = new StringBuilder(s.Length + 2).Append('"');
        foreach (var c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                default:
                    if (c < 0x20 || c == 0x7F) sb.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:X4}");
                    else sb.Append(c);
                    break;
            }
        }
        return sb.Append('"').ToString();
    }
}
