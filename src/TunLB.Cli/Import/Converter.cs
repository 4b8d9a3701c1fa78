using System.Globalization;
using TunLB.Control.Configuration;
using TunLB.Core.Flows;

namespace TunLB.Cli.Import;

/// <summary>
/// One conversion: walks the parsed statements, collects the TOML services and the issues in file order. Split by
/// block: virtual_server and real_server (Converter.Servers.cs), health checkers (Converter.Checkers.cs).
/// </summary>
internal sealed partial class Converter
{
    // keepalived.conf(5) defaults.
    public const double DefaultDelayLoop = 60, DefaultConnectTimeout = 5;
    public const long DefaultPersistenceTimeout = 360;
    public const string DefaultStatus = "200-299";

    private static readonly string[] MappedSchedulers = ["rr", "wrr", "lc", "wlc", "sh", "dh", "mh", "sed", "nq"];
    private static readonly string[] KnownSchedulers = ["rr", "wrr", "lc", "wlc", "lblc", "sh", "mh", "dh", "fo", "ovf", "lblcr", "sed", "nq", "twos"];
    private static readonly string[] CheckerKinds =
        ["HTTP_GET", "SSL_GET", "TCP_CHECK", "SMTP_CHECK", "DNS_CHECK", "MISC_CHECK", "BFD_CHECK", "UDP_CHECK", "PING_CHECK", "FILE_CHECK"];
    private const string TunnelOnly =
        "TunLB forwards by IPIP tunnel only; converted as TUN (the real servers must accept IPIP: run `tunlb realserver` on them)";

    private readonly List<(int Seq, ImportIssue Issue)> _issues = [];
    private readonly List<OutService> _services = [];
    private readonly Dictionary<(IpAddress, long, string), OutService> _seen = [];
    private readonly Dictionary<string, KStatement> _groups = new(StringComparer.Ordinal);
    private int _virtualServers;

    public ImportResult Run(string source, List<KStatement> top, List<(string File, int Line, string Pattern, int Seq)> includeProblems,
                            List<KToken> stray)
    {
        foreach (var (file, line, pattern, seq) in includeProblems)
            Add(seq, file, line, ImportSeverity.Skipped, $"include {pattern}", "no file matches; nothing from it was converted");
        foreach (var t in stray)
            Add(t.Seq, t.File, t.Line, ImportSeverity.Note, "}",
                "Extra '}' found: it closes no block; keepalived reports this and reads on, so does the import (check the braces above it)");

        // Groups may be defined after the virtual_server that uses them (keepalived reads the whole file first).
        foreach (var s in top)
            if (s.Keyword == "virtual_server_group" && s.Args.Count > 0) _groups[s.Arg(0)] = s;

        foreach (var s in top)
        {
            if (Special(s)) continue;
            switch (s.Keyword)
            {
                case "virtual_server":
                    _virtualServers++;
                    VirtualServer(s);
                    break;
                case "virtual_server_group":
                    if (s.Args.Count == 0 || s.Block is null)
                        Add(s, ImportSeverity.Skipped, s.Text, "a virtual_server_group needs a name and a { } block; ignored");
                    break;
                case "real_server" or "sorry_server" or "lvs_sched" or "lb_algo" or "lvs_method" or "lb_kind" or "protocol" or "delay_loop":
                    Add(s, ImportSeverity.Note, s.Text,
                        "outside any virtual_server (a '}' too many above it?); keepalived ignores it here, so does the import");
                    break;
                default:
                    Add(s, ImportSeverity.Note, s.Keyword, TopLevelWhy(s.Keyword));
                    break;
            }
        }
        foreach (var svc in _services) FactorChecks(svc);

        var issues = _issues.OrderBy(i => i.Seq).Select(i => i.Issue).ToList();
        // Self-check with the director's own loader and model (what `tunlb director --check` runs): a refusal is an
        // import bug, reported so the exit code never says the output is usable when the director would refuse it.
        var errors = ImportSelfCheck.Errors(TomlOutput.Write(source, _services, issues), source + " (converted)");
        foreach (var err in errors)
            issues.Add(new ImportIssue(source, 0, ImportSeverity.Skipped, "converted output",
                $"fails TunLB's configuration check (an import bug; please report it): {err}"));
        return new ImportResult
        {
            Toml = TomlOutput.Write(source, _services, issues),
            Issues = issues,
            VirtualServers = _virtualServers,
            ServicesWritten = _services.Count,
            RealsWritten = _services.Sum(x => x.Reals.Count),
        };
    }

    private static string TopLevelWhy(string keyword) => keyword switch
    {
        "global_defs" => "global settings (notification e-mail, router id, ...) are not converted",
        "SSL" => "client TLS settings for SSL_GET checks are not converted",
        _ when keyword.StartsWith("vrrp_", StringComparison.Ordinal) =>
            "VRRP (moving the VIP between directors) is not part of TunLB; not converted",
        _ => "not a virtual_server; not converted",
    };


    private void Add(KStatement s, ImportSeverity sev, string what, string why) => Add(s.Seq, s.File, s.Line, sev, what, why);
    private void Add(int seq, string file, int line, ImportSeverity sev, string what, string why)
    {
        var issue = new ImportIssue(file, line, sev, what, why);
        // A group's block is converted once per member: report each of its lines once.
        if (!_issues.Any(i => i.Seq == seq && i.Issue == issue)) _issues.Add((seq, issue));
    }
    private void Unknown(KStatement s, string where) =>
        Add(s, ImportSeverity.Skipped, s.Text, $"unknown keyword in {where}; not converted");

    /// <summary>Conditional lines (@id) and parameters ($NAME=...) are keepalived preprocessing the import does not evaluate.</summary>
    private bool Special(KStatement s)
    {
        if (s.Keyword.StartsWith('@'))
        {
            Add(s, ImportSeverity.Skipped, s.Text,
                "conditional configuration line (@config-id): the import does not know which config id applies; line ignored");
            return true;
        }
        if (s.Keyword.StartsWith('$') || s.Keyword.StartsWith("~SEQ", StringComparison.Ordinal))
        {
            Add(s, ImportSeverity.Skipped, s.Text,
                "parameter definitions, substitution and ~SEQ are not supported by the import; write the values out; line ignored");
            return true;
        }
        return false;
    }


    /// <summary>
    /// A keepalived time in seconds (decimals allowed). keepalived refuses 0 where <paramref name="positive"/> and any
    /// non-number, logs "... invalid - ignoring" and keeps the inherited or default value: the import does the same.
    /// </summary>
    private bool Timer(KStatement s, out double value, bool positive = true)
    {
        value = 0;
        if (s.Args.Count >= 1 && double.TryParse(s.Arg(0), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out value)
            && value >= 0 && (value > 0 || !positive) && value <= 4_294_967)
            return true;
        Add(s, ImportSeverity.Note, s.Text,
            $"not a valid time ({(positive ? "more than 0" : "0 or more")} seconds): keepalived ignores this line and keeps the default, so does the import");
        return false;
    }

    private bool Integer(KStatement s, long min, long max, out long value, int arg = 0)
    {
        value = 0;
        if (s.Args.Count > arg && long.TryParse(s.Arg(arg), NumberStyles.None, CultureInfo.InvariantCulture, out value)
            && value >= min && value <= max)
            return true;
        Add(s, ImportSeverity.Skipped, s.Text, $"expected an integer {min}..{max}; not converted");
        return false;
    }

    /// <summary>keepalived's optional BOOL: nothing = true; true/yes/on, false/no/off.</summary>
    private bool Bool(KStatement s, out bool value)
    {
        value = true;
        if (s.Args.Count == 0) return true;
        switch (s.Arg(0).ToLowerInvariant())
        {
            case "true" or "yes" or "on": return true;
            case "false" or "no" or "off": value = false; return true;
        }
        Add(s, ImportSeverity.Skipped, s.Text, "expected true/false (or nothing); not converted");
        return false;
    }

    private bool Address(KStatement s, int arg, out IpAddress a, string what)
    {
        a = default;
        if (s.Args.Count <= arg)
        {
            Add(s, ImportSeverity.Skipped, s.Text, $"{what}: the address is missing");
            return false;
        }
        if (ConfigText.TryParseHostAddress(s.Arg(arg), out a, out var err)) return true;
        Add(s, ImportSeverity.Skipped, s.Text, $"{what}: {err}");
        return false;
    }

    /// <summary>Handles a setting keepalived inherits; false if the keyword is not one.</summary>
    private bool InheritedSetting(KStatement s, Inherited d, bool virtualServer = false)
    {
        switch (s.Keyword)
        {
            case "delay_loop": if (Timer(s, out var dl)) d.DelayLoop = dl; return true;
            case "connect_timeout": if (Timer(s, out var ct)) d.ConnectTimeout = ct; return true;
            case "delay_before_retry": if (Timer(s, out var dbr, positive: false)) d.DelayBeforeRetry = dbr; return true;
            case "retry" or "nb_get_retry":
                // keepalived: 1.. at the virtual_server, 0.. in a real_server or checker; anything else is ignored.
                long min = virtualServer ? 1 : 0;
                if (s.Args.Count > 0 && long.TryParse(s.Arg(0), NumberStyles.None, CultureInfo.InvariantCulture, out var r)
                    && r >= min && r <= uint.MaxValue)
                    d.Retry = r;
                else
                    Add(s, ImportSeverity.Note, s.Text, $"not a valid retry count ({min} or more): keepalived ignores this line, so does the import");
                return true;
            case "alpha": if (Bool(s, out var a)) d.Alpha = a; return true;
            case "inhibit_on_failure": if (Bool(s, out var i)) d.Inhibit = i; return true;
            case "virtualhost": d.VirtualHost = s.Arg(0); return true;
            case "warmup":
                Add(s, ImportSeverity.Note, s.Text, "TunLB has no random start delay for checks; ignored");
                return true;
            case "snmp_name":
                Add(s, ImportSeverity.Note, s.Text, "TunLB has no SNMP; ignored");
                return true;
            case "smtp_alert":
                Add(s, ImportSeverity.Skipped, s.Text, "TunLB sends no e-mail; watch its API or metrics instead");
                return true;
        }
        return false;
    }

    /// <summary>lvs_method / lb_kind: returns the method (NAT, DR, TUN) and reports anything but plain IPIP TUN.</summary>
    private string Method(KStatement s)
    {
        var m = s.Arg(0).ToUpperInvariant();
        if (m is "NAT" or "DR")
        {
            Add(s, ImportSeverity.Note, s.Text, TunnelOnly);
            return m;
        }
        if (m == "TUN")
        {
            int t = s.Args.FindIndex(a => a.Text == "type");
            if (t >= 0 && t + 1 < s.Args.Count && !s.Args[t + 1].Text.Equals("ipip", StringComparison.OrdinalIgnoreCase))
                Add(s, ImportSeverity.Changed, s.Text, $"TunLB tunnels with IPIP only, not {s.Args[t + 1].Text}; converted as IPIP");
            return "TUN";
        }
        Add(s, ImportSeverity.Skipped, s.Text, "unknown forwarding method; TunLB uses IPIP tunnel");
        return "TUN";
    }
}
