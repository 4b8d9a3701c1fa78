using System.Globalization;
using System.Text;
using TunLB.Core.Flows;

namespace TunLB.Cli.Import;

/// <summary>An ordered list of TOML key/values; values are string, long, double or bool.</summary>
internal sealed class TomlKeys : List<KeyValuePair<string, object>>
{
    public void Set(string key, object value)
    {
        int i = FindIndex(kv => kv.Key == key);
        if (i >= 0) this[i] = new(key, value);
        else Add(new(key, value));
    }

    public void Add(string key, object value) => Add(new KeyValuePair<string, object>(key, value));

    public object? Get(string key) => this.FirstOrDefault(kv => kv.Key == key).Value;
}

internal sealed class OutReal
{
    public required string Address;
    public required long Port;
    public long Weight = 1;
    public IpAddress Ip;
    public long? UpperThreshold, LowerThreshold;
    /// <summary>The real's complete effective check; null if keepalived had no usable checker.</summary>
    public TomlKeys? Check;
    /// <summary>What is written under [service.real.check] (set by factoring).</summary>
    public TomlKeys? CheckOverride;
    public required string SourceFile;
    public required int SourceLine;
}

internal sealed class OutService
{
    public required string Vip;
    public required long Port;
    public string Protocol = "tcp";
    public string Scheduler = "wlc";
    public List<string> SchedulerFlags = [];
    public long Persistence;
    public object? PersistenceNetmask;
    public long? Quorum, Hysteresis;
    public string? QuorumUp, QuorumDown;
    public TomlKeys? Check;
    public (string Address, long Port)? Sorry;
    /// <summary>A loopback sorry server, written as a comment only.</summary>
    public string? LoopbackSorry;
    public List<OutReal> Reals = [];
    public required string SourceFile;
    public required int SourceLine;
    public required string SourceText;
}

/// <summary>Writes the converted services as director.toml text.</summary>
internal static class TomlOutput
{
    public static string Write(string source, IReadOnlyList<OutService> services, IReadOnlyList<ImportIssue> issues)
    {
        var sb = new StringBuilder();
        sb.Append("# TunLB director configuration converted from keepalived configuration ").Append(source).Append('\n');
        sb.Append("# by `tunlb import keepalived` (see docs/keepalived-import.md). Review before use:\n");
        sb.Append("# keepalived's NAT and DR services are converted to TunLB's only forwarding method, IPIP tunnel.\n");
        if (issues.Count > 0)
        {
            sb.Append("#\n# Import report (").Append(issues.Count).Append(" item(s)):\n");
            foreach (var i in issues) sb.Append("#   ").Append(OneLine(i.ToString())).Append('\n');
        }
        foreach (var s in services)
        {
            sb.Append('\n');
            sb.Append("# ").Append(s.SourceFile).Append(':').Append(s.SourceLine).Append(": ").Append(OneLine(s.SourceText)).Append('\n');
            sb.Append("[[service]]\n");
            Key(sb, "vip", s.Vip);
            Key(sb, "port", s.Port);
            Key(sb, "protocol", s.Protocol);
            Key(sb, "scheduler", s.Scheduler);
            if (s.SchedulerFlags.Count > 0)
                sb.Append("scheduler_flags = [").Append(string.Join(", ", s.SchedulerFlags.Select(Quote))).Append("]\n");
            Key(sb, "persistence", s.Persistence);
            if (s.PersistenceNetmask is { } nm) Key(sb, "persistence_netmask", nm);
            if (s.Quorum is { } q) Key(sb, "quorum", q);
            if (s.Hysteresis is { } h) Key(sb, "hysteresis", h);
            if (s.QuorumUp is { } qu) Key(sb, "quorum_up", qu);
            if (s.QuorumDown is { } qd) Key(sb, "quorum_down", qd);
            if (s.Check is { } c) Table(sb, "service.check", c);
            if (s.Sorry is { } sorry)
            {
                sb.Append("\n[service.sorry]\n");
                Key(sb, "address", sorry.Address);
                Key(sb, "port", sorry.Port);
            }
            else if (s.LoopbackSorry is { } ls)
                sb.Append("\n# keepalived's sorry_server ").Append(ls).Append(" is this director itself; TunLB tunnels only to other hosts:\n")
                  .Append("# [service.sorry]\n# address = \"<a host that serves the sorry page>\"\n");
            foreach (var r in s.Reals)
            {
                sb.Append("\n[[service.real]]");
                sb.Append("    # ").Append(r.SourceFile).Append(':').Append(r.SourceLine).Append('\n');
                Key(sb, "address", r.Address);
                Key(sb, "port", r.Port);
                Key(sb, "weight", r.Weight);
                if (r.UpperThreshold is { } u) Key(sb, "upper_threshold", u);
                if (r.LowerThreshold is { } l) Key(sb, "lower_threshold", l);
                if (r.CheckOverride is { Count: > 0 } o) Table(sb, "service.real.check", o);
            }
        }
        return sb.ToString();
    }

    private static void Table(StringBuilder sb, string name, TomlKeys keys)
    {
        sb.Append('\n').Append('[').Append(name).Append("]\n");
        foreach (var kv in keys) Key(sb, kv.Key, kv.Value);
    }

    private static void Key(StringBuilder sb, string key, object value) =>
        sb.Append(key).Append(" = ").Append(Value(value)).Append('\n');

    public static string Value(object v) => v switch
    {
        string s => Quote(s),
        long l => l.ToString(CultureInfo.InvariantCulture),
        int i => i.ToString(CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        double d => FormatDouble(d),
        _ => throw new ArgumentException($"unsupported TOML value {v.GetType()}"),
    };

    private static string FormatDouble(double d)
    {
        var s = d.ToString("R", CultureInfo.InvariantCulture);
        return s.Contains('.') || s.Contains('E') ? s : s + ".0";
    }

    public static string Quote(string s)
    {
        var sb = new StringBuilder("\"");
        foreach (var c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\t': sb.Append("\\t"); break;
                default:
                    if (char.IsControl(c)) sb.Append("\\u").Append(((int)c).ToString("X4", CultureInfo.InvariantCulture));
                    else sb.Append(c);
                    break;
            }
        }
        return sb.Append('"').ToString();
    }

    private static string OneLine(string s) => s.Replace('\n', ' ').Replace('\r', ' ');
}
