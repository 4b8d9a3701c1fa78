using System.Globalization;
using System.Text;
using TunLB.Health;
using TunLB.Core.Flows;

namespace TunLB.Control.Configuration;

/// <summary>
/// Reads the health-check keys: [director] check_port_range; [service.check], [service.real.check],
/// [service.sorry], quorum, hysteresis, quorum_up, quorum_down; [realserver] agent_port, agent_state_file,
/// agent_listen. Called from <see cref="ConfigLoader"/> at one place per table; errors go to the same sink.
/// </summary>
internal static class HealthConfigReader
{
    public static readonly string[] ServiceKeys = ["check", "sorry", "quorum", "hysteresis", "quorum_up", "quorum_down"];
    public static readonly string[] RealKeys = ["check"];
    public static readonly string[] RealServerKeys = ["agent_port", "agent_state_file", "agent_listen"];

    public static readonly string[] CheckKeys =
    [
        "type", "port", "path", "expect_status", "expect_body", "host", "tls_skip_verify", "payload", "expect",
        "require_reply", "query_name", "query_type", "require_answer", "command", "dynamic", "interval", "timeout", "rise", "fall", "alpha", "via",
        "on_failure", "dampening",
    ];
    private static readonly string[] DampeningKeys = ["penalty", "suppress", "reuse", "half_life"];
    private static readonly string[] SorryKeys = ["address", "port", "weight"];

    // ---------------------------------------------------------------- [director]

    public static DirectorSettings ReadDirector(TableReader r, DirectorSettings d)
    {
        var e = r.Get("check_port_range");
        if (e is null || !r.TryString(e, out var text)) return d;
        var parts = text.Split('-', StringSplitOptions.TrimEntries);
        if (parts.Length == 2 && ushort.TryParse(parts[0], out var lo) && ushort.TryParse(parts[1], out var hi) && lo >= 1024 && lo <= hi && hi - lo < 16384)
            return d with { CheckPortFirst = lo, CheckPortLast = hi };
        r.Error(e, $"\"{text}\" is not a port range like \"61000-61999\" (first >= 1024, at most 16384 ports)");
        return d;
    }

    // ---------------------------------------------------------------- [[service]]

    public static ServiceHealthSpec ReadService(TableReader r, IReadOnlyList<TTable> realTables, ushort servicePort, string protocol)
    {
        var check = new CheckSpec();
        if (r.Get("check") is { } ce)
        {
            if (ce.Value is TTable ct) check = ReadCheck(r.Child(ct, r.KeyPath("check"), CheckKeys), new CheckSpec(), protocol);
            else r.TypeError(ce, "a table ([service.check])");
        }

        var perReal = new Dictionary<IpAddress, CheckSpec>();
        for (int j = 0; j < realTables.Count; j++)
        {
            var t = realTables[j];
            if (t.Find("check") is not { } rce) continue;
            var path = $"{r.Path}.real[{j}].check";
            if (rce.Value is not TTable rct) { r.Error(rce.Value, path, $"expected a table ([service.real.check]), got {rce.Value.Describe()}"); continue; }
            var spec = ReadCheck(r.Child(rct, path, CheckKeys), check, protocol);
            if (t.Find("address")?.Value is TScalar { Value: string a } && ConfigText.TryParseHostAddress(a, out var addr, out _))
                perReal[addr] = spec;
        }

        SorrySpec? sorry = null;
        if (r.Get("sorry") is { } se)
        {
            if (se.Value is TTable st)
            {
                var sr = r.Child(st, r.KeyPath("sorry"), SorryKeys);
                if (sr.Required("address") is { } ae && sr.TryHostAddress(ae, out var sa))
                    sorry = new SorrySpec(sa, (ushort)sr.Int("port", 0, 65535, servicePort), sr.Int("weight", 1, 65535, 1));
            }
            else r.TypeError(se, "a table ([service.sorry] with address)");
        }

        int quorum = r.Int("quorum", 1, int.MaxValue, 1);
        int hysteresis = r.Int("hysteresis", 0, int.MaxValue, 0);
        if (hysteresis >= quorum && r.Get("hysteresis") is { } he)
            r.Error(he, $"hysteresis {hysteresis} must be below quorum {quorum} (the service goes down when live weight < quorum - hysteresis)");
        return new ServiceHealthSpec
        {
            Check = check, PerReal = perReal, Sorry = sorry, Quorum = quorum, Hysteresis = hysteresis,
            QuorumUp = r.String("quorum_up") ?? "", QuorumDown = r.String("quorum_down") ?? "",
        };
    }

    /// <summary>A check table over <paramref name="defaults"/> (the service's check for a per-real override).</summary>
    public static CheckSpec ReadCheck(TableReader r, CheckSpec defaults, string protocol)
    {
        var c = defaults;
        var type = r.OneOf("type", CheckSpec.Types, "check type") ?? c.Type;
        c = c with
        {
            Type = type,
            Port = r.Int("port", 0, 65535, c.Port),
            Path = r.String("path") ?? c.Path,
            ExpectStatus = r.String("expect_status") ?? c.ExpectStatus,
            ExpectBody = r.String("expect_body") ?? c.ExpectBody,
            Host = r.String("host") ?? c.Host,
            TlsSkipVerify = r.Bool("tls_skip_verify", c.TlsSkipVerify),
            Payload = r.String("payload") is { } p ? Unescape(p) : c.Payload,
            Expect = r.String("expect") ?? c.Expect,
            RequireReply = r.Bool("require_reply", c.RequireReply),
            QueryName = r.String("query_name") ?? c.QueryName,
            QueryType = r.String("query_type") ?? c.QueryType,
            RequireAnswer = r.Bool("require_answer", c.RequireAnswer),
            Command = r.String("command") ?? c.Command,
            Dynamic = r.Bool("dynamic", c.Dynamic),
            IntervalSeconds = Seconds(r, "interval", 0.1, 3600, c.IntervalSeconds),
            TimeoutSeconds = Seconds(r, "timeout", 0.05, 3600, c.TimeoutSeconds),
            Rise = r.Int("rise", 1, 1000, c.Rise),
            Fall = r.Int("fall", 1, 1000, c.Fall),
            Alpha = r.Bool("alpha", c.Alpha),
            Via = r.OneOf("via", ["tunnel", "direct"], "via") ?? c.Via,
            OnFailure = r.OneOf("on_failure", ["remove", "inhibit"], "on_failure") switch
            {
                "remove" => FailureAction.Remove, "inhibit" => FailureAction.Inhibit, _ => c.OnFailure,
            },
            Dampening = ReadDampening(r, c.Dampening),
        };

        if (r.Get("expect_status") is { } es && !StatusRanges.TryParse(c.ExpectStatus, out _, out var err)) r.Error(es, err);
        if (r.Get("query_type") is { } qt && !DnsMessage.TryTypeCode(c.QueryType, out _))
            r.Error(qt, $"unknown DNS type \"{c.QueryType}\"; known: {string.Join(" ", DnsMessage.TypeCodes.Keys)} or a number");
        if (r.Get("path") is { } pe && !c.Path.StartsWith('/')) r.Error(pe, $"path \"{c.Path}\" must start with /");
        if (c.Type == "misc" && c.Command.Length == 0) r.Error(r.Get("type")!, "a misc check needs command = \"...\"");
        if (c.Type is "udp" or "dns" && protocol == "tcp" && c.Port == 0 && c.Via == "tunnel" && r.Get("type") is { } te)
            r.Error(te, $"a {c.Type} check of a tcp service through the tunnel needs its own port (the service port is TCP)");
        if (c.Enabled && c.TimeoutSeconds > c.IntervalSeconds && r.Get("timeout") is { } to)
            r.Error(to, $"timeout {c.TimeoutSeconds} s is longer than interval {c.IntervalSeconds} s");
        return c;
    }

    private static DampeningSpec? ReadDampening(TableReader r, DampeningSpec? fallback)
    {
        var e = r.Get("dampening");
        if (e is null) return fallback;
        if (e.Value is TScalar { Value: bool b }) return b ? DampeningSpec.Default : null;
        if (e.Value is not TTable t) { r.TypeError(e, "true, false or a table {penalty, suppress, reuse, half_life}"); return fallback; }
        var dr = r.Child(t, r.KeyPath("dampening"), DampeningKeys);
        var d = DampeningSpec.Default;
        d = d with
        {
            Penalty = Seconds(dr, "penalty", 1, 1e9, d.Penalty),
            Suppress = Seconds(dr, "suppress", 1, 1e9, d.Suppress),
            Reuse = Seconds(dr, "reuse", 0, 1e9, d.Reuse),
            HalfLifeSeconds = Seconds(dr, "half_life", 0.1, 86400, d.HalfLifeSeconds),
        };
        if (d.Reuse >= d.Suppress) dr.Error(t, dr.Path, $"reuse {d.Reuse} must be below suppress {d.Suppress}");
        return d;
    }

    /// <summary>A number (integer or float) in range.</summary>
    private static double Seconds(TableReader r, string key, double min, double max, double fallback)
    {
        var e = r.Get(key);
        if (e is null) return fallback;
        double v;
        switch (e.Value)
        {
            case TScalar { Value: long l }: v = l; break;
            case TScalar { Value: double d }: v = d; break;
            default: r.TypeError(e, "a number"); return fallback;
        }
        if (v < min || v > max || double.IsNaN(v))
        {
            r.Error(e, $"{v.ToString(CultureInfo.InvariantCulture)} is out of range; must be {min.ToString(CultureInfo.InvariantCulture)}..{max.ToString(CultureInfo.InvariantCulture)}");
            return fallback;
        }
        return v;
    }

    /// <summary>\n \r \t \\ \xHH in a UDP payload (TOML basic strings already handle most; this covers literal strings too).</summary>
    public static string Unescape(string s)
    {
        if (!s.Contains('\\')) return s;
        var sb = new StringBuilder();
        for (int i = 0; i < s.Length; i++)
        {
            if (s[i] != '\\' || i + 1 >= s.Length) { sb.Append(s[i]); continue; }
            char c = s[++i];
            switch (c)
            {
                case 'n': sb.Append('\n'); break;
                case 'r': sb.Append('\r'); break;
                case 't': sb.Append('\t'); break;
                case '0': sb.Append('\0'); break;
                case 'x' when i + 2 < s.Length && int.TryParse(s.AsSpan(i + 1, 2), NumberStyles.HexNumber, null, out var h):
                    sb.Append((char)h); i += 2; break;
                default: sb.Append('\\').Append(c); break;
            }
        }
        return sb.ToString();
    }

    // ---------------------------------------------------------------- [realserver]

    public static RealServerConfig ReadRealServer(TableReader r, RealServerConfig cfg) => cfg with
    {
        AgentPort = r.Int("agent_port", 0, 65535, 0),
        AgentStateFile = r.String("agent_state_file") ?? cfg.AgentStateFile,
        AgentListen = r.Get("agent_listen") is { } le && r.TryHostAddress(le, out var la) ? la.ToString() : cfg.AgentListen,
    };
}
