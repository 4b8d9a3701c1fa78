using System.Globalization;
using TunLB.Control.Configuration;
using TunLB.Core.Flows;

namespace TunLB.Cli.Import;

/// <summary>
/// Converts the <c>virtual_server</c> blocks of a keepalived configuration into TunLB director
/// TOML. Everything that cannot be carried over is reported with its file and line; see
/// docs/keepalived-import.md for the mapping.
/// </summary>
public static class KeepalivedImporter
{
    /// <summary>Reads and converts a file (and what it includes).</summary>
    /// <exception cref="KeepalivedParseException">Unreadable file or broken structure.</exception>
    public static ImportResult ImportFile(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var includeProblems = new List<(string, int, string, int)>();
        var top = KeepalivedSyntax.ParseFile(path, includeProblems);
        return new Converter().Run(path, top, includeProblems);
    }

    /// <summary>Converts text; <paramref name="path"/> names it in the report and anchors relative includes.</summary>
    /// <exception cref="KeepalivedParseException">Broken structure or an unreadable include.</exception>
    public static ImportResult ImportText(string text, string path)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(path);
        var includeProblems = new List<(string, int, string, int)>();
        var top = KeepalivedSyntax.ParseText(text, path, includeProblems);
        return new Converter().Run(path, top, includeProblems);
    }
}

/// <summary>Settings keepalived inherits virtual_server → real_server → checker.</summary>
internal sealed class Inherited
{
    public double? DelayLoop, ConnectTimeout, DelayBeforeRetry;
    public long? Retry;
    public bool? Alpha, Inhibit;
    public string? VirtualHost;
    public Inherited Clone() => (Inherited)MemberwiseClone();
}

internal sealed class Converter
{
    // keepalived.conf(5) defaults.
    public const double DefaultDelayLoop = 60, DefaultConnectTimeout = 5;
    public const long DefaultPersistenceTimeout = 360;
    public const string DefaultStatus = "200-299";

    private static readonly string[] MappedSchedulers = ["rr", "wrr", "lc", "wlc", "sh", "dh", "mh"];
    private static readonly string[] KnownSchedulers = ["rr", "wrr", "lc", "wlc", "lblc", "sh", "mh", "dh", "fo", "ovf", "lblcr", "sed", "nq", "twos"];
    private static readonly string[] CheckerKinds =
        ["HTTP_GET", "SSL_GET", "TCP_CHECK", "SMTP_CHECK", "DNS_CHECK", "MISC_CHECK", "BFD_CHECK", "UDP_CHECK", "PING_CHECK", "FILE_CHECK"];
    private const string TunnelOnly =
        "TunLB forwards by IPIP tunnel only; converted as TUN (the real servers must accept IPIP: run `tunlb realserver` on them)";

    private readonly List<(int Seq, ImportIssue Issue)> _issues = [];
    private readonly List<OutService> _services = [];
    private readonly Dictionary<(IpAddress, long, string), OutService> _seen = [];
    private int _virtualServers;

    public ImportResult Run(string source, List<KStatement> top, List<(string File, int Line, string Pattern, int Seq)> includeProblems)
    {
        foreach (var (file, line, pattern, seq) in includeProblems)
            Add(seq, file, line, ImportSeverity.Skipped, $"include {pattern}", "no file matches; nothing from it was converted");

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
                    Add(s, ImportSeverity.Skipped, s.Text,
                        "TunLB has no virtual server groups; a virtual_server using it is skipped too (write one virtual_server per address)");
                    break;
                default:
                    Add(s, ImportSeverity.Note, s.Keyword, TopLevelWhy(s.Keyword));
                    break;
            }
        }

        var issues = _issues.OrderBy(i => i.Seq).Select(i => i.Issue).ToList();
        var toml = TomlOutput.Write(source, _services, issues);
        // Self-check: what today's loader knows of the output must load (the health-check tables are
        // left out of this check until TunLB's loader knows them).
        try
        {
            ConfigLoader.ParseDirector(TomlOutput.Write(source, _services, issues, coreOnly: true), source + " (converted)");
        }
        catch (ConfigException e)
        {
            foreach (var err in e.Errors)
                issues.Add(new ImportIssue(source, 0, ImportSeverity.Skipped, "converted output",
                    $"fails TunLB's configuration check (an import bug; please report it): {err}"));
        }
        return new ImportResult
        {
            Toml = toml,
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

    // ------------------------------------------------------------------ reporting

    private void Add(KStatement s, ImportSeverity sev, string what, string why) => Add(s.Seq, s.File, s.Line, sev, what, why);
    private void Add(int seq, string file, int line, ImportSeverity sev, string what, string why) =>
        _issues.Add((seq, new ImportIssue(file, line, sev, what, why)));
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

    // ------------------------------------------------------------------ values

    private bool Timer(KStatement s, out double value)
    {
        value = 0;
        if (s.Args.Count >= 1 && double.TryParse(s.Arg(0), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out value)
            && value >= 0 && value <= ConfigLoader.MaxTimeoutSeconds)
            return true;
        Add(s, ImportSeverity.Skipped, s.Text, "expected a time in seconds; not converted");
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
    private bool InheritedSetting(KStatement s, Inherited d)
    {
        switch (s.Keyword)
        {
            case "delay_loop": if (Timer(s, out var dl)) d.DelayLoop = dl; return true;
            case "connect_timeout": if (Timer(s, out var ct)) d.ConnectTimeout = ct; return true;
            case "delay_before_retry": if (Timer(s, out var dbr)) d.DelayBeforeRetry = dbr; return true;
            case "retry" or "nb_get_retry": if (Integer(s, 0, 1000, out var r)) d.Retry = r; return true;
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
            Add(s, ImportSeverity.Changed, s.Text, TunnelOnly);
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

    // ------------------------------------------------------------------ virtual_server

    private void VirtualServer(KStatement vs)
    {
        if (vs.Arg(0) == "group")
        {
            Add(vs, ImportSeverity.Skipped, vs.Text, "TunLB has no virtual server groups; write one virtual_server per address; block skipped");
            return;
        }
        if (vs.Arg(0) == "fwmark")
        {
            Add(vs, ImportSeverity.Skipped, vs.Text,
                "TunLB selects a service by address, port and protocol, not by firewall mark; block skipped");
            return;
        }
        if (vs.Block is null)
        {
            Add(vs, ImportSeverity.Skipped, vs.Text, "virtual_server without a { } block; skipped");
            return;
        }
        if (!Address(vs, 0, out var vip, "virtual_server address; block skipped")) return;
        long port = 0;
        if (vs.Args.Count >= 2 && !Integer(vs, 0, 65535, out port, 1)) return;

        var svc = new OutService
        {
            Vip = vs.Arg(0), Port = port, SourceFile = vs.File, SourceLine = vs.Line, SourceText = vs.Text,
        };
        var d = new Inherited();
        string method = "NAT";
        bool methodSet = false, protocolOk = true, persistent = false;
        long defaultWeight = 1;
        KStatement? sched = null, sorryMethod = null;
        var flags = new List<KStatement>();
        var reals = new List<KStatement>();

        foreach (var s in vs.Block)
        {
            if (Special(s) || InheritedSetting(s, d)) continue;
            switch (s.Keyword)
            {
                case "lvs_sched" or "lb_algo": sched = s; break;
                case "lvs_method" or "lb_kind": method = Method(s); methodSet = true; break;
                case "persistence_timeout":
                    if (s.Args.Count == 0) { svc.Persistence = DefaultPersistenceTimeout; persistent = true; }
                    else if (Integer(s, 0, ConfigLoader.MaxTimeoutSeconds, out var p)) { svc.Persistence = p; persistent = p > 0; }
                    break;
                case "persistence_granularity": Granularity(s, svc, vip); break;
                case "persistence_engine":
                    Add(s, ImportSeverity.Skipped, s.Text, "TunLB has no persistence engines (SIP Call-ID); persistence is by client address");
                    break;
                case "protocol":
                    switch (s.Arg(0).ToUpperInvariant())
                    {
                        case "TCP": svc.Protocol = "tcp"; break;
                        case "UDP": svc.Protocol = "udp"; break;
                        default:
                            Add(s, ImportSeverity.Skipped, s.Text, "TunLB balances TCP and UDP only; the whole virtual_server is skipped");
                            protocolOk = false;
                            break;
                    }
                    break;
                case "flag-1" or "flag-2" or "flag-3" or "sh-port" or "sh-fallback" or "mh-port" or "mh-fallback": flags.Add(s); break;
                case "ops":
                    Add(s, ImportSeverity.Skipped, s.Text, "TunLB has no one-packet scheduling (ipvsadm -o)");
                    break;
                case "hashed":
                    Add(s, ImportSeverity.Skipped, s.Text, "the IPVS 'hashed' flag has no TunLB equivalent");
                    break;
                case "ha_suspend":
                    Add(s, ImportSeverity.Skipped, s.Text, "TunLB always checks real servers (there is no VRRP-owned address to wait for)");
                    break;
                case "omega":
                    Add(s, ImportSeverity.Skipped, s.Text, "TunLB runs no quorum or real-server scripts at shutdown");
                    break;
                case "ip_family":
                    Add(s, ImportSeverity.Note, s.Text, "the address family comes from the addresses; ignored");
                    break;
                case "quorum": if (Integer(s, 0, int.MaxValue, out var q)) svc.Quorum = q; break;
                case "hysteresis": if (Integer(s, 0, int.MaxValue, out var h)) svc.Hysteresis = h; break;
                case "quorum_up": svc.QuorumUp = Script(s); break;
                case "quorum_down": svc.QuorumDown = Script(s); break;
                case "weight": if (Integer(s, 0, 65535, out var w)) defaultWeight = w; break;
                case "sorry_server":
                    if (Address(s, 0, out var sa, "sorry_server"))
                    {
                        if (sa.IsV4 != vip.IsV4)
                            Add(s, ImportSeverity.Skipped, s.Text, $"sorry server is {ConfigText.Family(sa)} but the VIP is {ConfigText.Family(vip)}");
                        else if (s.Args.Count < 2) svc.Sorry = (s.Arg(0), port);
                        else if (Integer(s, 0, 65535, out var sp, 1)) svc.Sorry = (s.Arg(0), sp);
                    }
                    break;
                case "sorry_server_inhibit":
                    Add(s, ImportSeverity.Skipped, s.Text, "TunLB adds or removes the sorry server; it has no inhibit mode for it");
                    break;
                case "sorry_server_lvs_method": sorryMethod = s; break;
                case "real_server": reals.Add(s); break;
                default:
                    if (CheckerKinds.Contains(s.Keyword))
                        Add(s, ImportSeverity.Skipped, s.Keyword, "a checker belongs inside a real_server block; not converted");
                    else Unknown(s, "virtual_server");
                    break;
            }
        }
        if (!protocolOk) return;
        if (!methodSet)
            Add(vs, ImportSeverity.Changed, vs.Text, "no lvs_method: keepalived's default is NAT; " + TunnelOnly);
        if (sorryMethod is not null && svc.Sorry is not null) Method(sorryMethod);
        if (port == 0 && !persistent)
        {
            Add(vs, ImportSeverity.Skipped, vs.Text, "a virtual_server without a port must be persistent (persistence_timeout); block skipped");
            return;
        }

        svc.Scheduler = Scheduler(sched);
        SchedulerFlags(flags, svc);

        var seenReals = new Dictionary<IpAddress, OutReal>();
        foreach (var rs in reals)
        {
            // A duplicate address is dropped before its body is converted, so its settings are not reported too.
            if (ConfigText.TryParseIp(rs.Arg(0), out var ra, out _) && seenReals.TryGetValue(ra, out var first))
            {
                Add(rs, ImportSeverity.Skipped, rs.Text,
                    $"{rs.Arg(0)} is already a real server of this service (line {first.SourceLine}); TunLB's tunnel does not " +
                    "rewrite ports, so one address is one server; this one is not converted");
                continue;
            }
            var r = RealServer(rs, svc, vip, d, method, defaultWeight);
            if (r is null) continue;
            seenReals.Add(ra, r);
            svc.Reals.Add(r);
        }
        FactorChecks(svc);

        var key = (vip, port, svc.Protocol);
        if (_seen.TryGetValue(key, out var dup))
        {
            Add(vs, ImportSeverity.Skipped, vs.Text,
                $"the same service ({svc.Protocol} {vs.Arg(0)} port {port}) is already defined at {dup.SourceFile}:{dup.SourceLine}; block skipped");
            return;
        }
        _seen.Add(key, svc);
        _services.Add(svc);
    }

    private string? Script(KStatement s)
    {
        if (s.Args.Count == 0)
        {
            Add(s, ImportSeverity.Skipped, s.Text, "the script is missing");
            return null;
        }
        if (s.Args.Count > 1)
            Add(s, ImportSeverity.Skipped, s.Text,
                $"keepalived runs the script as user {string.Join(' ', s.Args.Skip(1).Select(a => a.Text))}; TunLB runs it as its own user " +
                "(quote the whole command line if these words were meant as its arguments)");
        return s.Arg(0);
    }

    private void Granularity(KStatement s, OutService svc, IpAddress vip)
    {
        var text = s.Arg(0);
        if (text.Length > 0 && text.All(char.IsAsciiDigit))
        {
            if (long.TryParse(text, CultureInfo.InvariantCulture, out var len) && len <= (vip.IsV4 ? 32 : 128)) svc.PersistenceNetmask = len;
            else Add(s, ImportSeverity.Skipped, s.Text, "prefix length out of range; persistence is per client address");
            return;
        }
        if (ConfigText.TryParseIp(text, out var mask, out _) && mask.IsV4 == vip.IsV4 && ConfigText.PrefixLength(mask) >= 0)
        {
            svc.PersistenceNetmask = text;
            return;
        }
        Add(s, ImportSeverity.Skipped, s.Text, "not a contiguous netmask of the VIP's family; persistence is per client address");
    }

    private string Scheduler(KStatement? s)
    {
        if (s is null) return "wlc"; // keepalived's default, as ipvsadm's
        var name = s.Arg(0).ToLowerInvariant();
        if (MappedSchedulers.Contains(name)) return name;
        Add(s, ImportSeverity.Changed, s.Text, KnownSchedulers.Contains(name)
            ? $"TunLB has no {name} scheduler (it has {string.Join(' ', MappedSchedulers)}); converted as wlc"
            : "unknown scheduler; converted as wlc");
        return "wlc";
    }

    private void SchedulerFlags(List<KStatement> flags, OutService svc)
    {
        foreach (var f in flags)
        {
            string? flag = (f.Keyword, svc.Scheduler) switch
            {
                ("flag-1", "sh" or "mh") => svc.Scheduler + "-fallback",
                ("flag-2", "sh" or "mh") => svc.Scheduler + "-port",
                ("sh-port" or "sh-fallback", "sh") or ("mh-port" or "mh-fallback", "mh") => f.Keyword,
                _ => null,
            };
            if (flag is null)
                Add(f, ImportSeverity.Skipped, f.Text, $"no such flag for TunLB's {svc.Scheduler} scheduler (sh-port, sh-fallback for sh; mh-port, mh-fallback for mh)");
            else if (!svc.SchedulerFlags.Contains(flag)) svc.SchedulerFlags.Add(flag);
        }
    }

    // ------------------------------------------------------------------ real_server

    private OutReal? RealServer(KStatement rs, OutService svc, IpAddress vip, Inherited vsDefaults, string method, long weight)
    {
        if (!Address(rs, 0, out var addr, "real_server; not converted")) return null;
        if (addr.IsV4 != vip.IsV4)
        {
            Add(rs, ImportSeverity.Skipped, rs.Text,
                $"real server is {ConfigText.Family(addr)} but the VIP is {ConfigText.Family(vip)}; TunLB needs one family per service; not converted");
            return null;
        }
        long port = svc.Port;
        if (rs.Args.Count >= 2 && !Integer(rs, 0, 65535, out port, 1)) return null;
        var r = new OutReal { Address = rs.Arg(0), Port = port, Weight = weight, SourceFile = rs.File, SourceLine = rs.Line };
        var d = vsDefaults.Clone();
        var checkers = new List<KStatement>();
        foreach (var s in rs.Block ?? [])
        {
            if (Special(s) || InheritedSetting(s, d)) continue;
            switch (s.Keyword)
            {
                case "weight": if (Integer(s, 0, 65535, out var w)) r.Weight = w; break;
                case "lvs_method" or "lb_kind": method = Method(s); break;
                case "uthreshold": if (Integer(s, 0, int.MaxValue, out var u)) r.UpperThreshold = u; break;
                case "lthreshold": if (Integer(s, 0, int.MaxValue, out var l)) r.LowerThreshold = l; break;
                case "notify_up" or "notify_down":
                    Add(s, ImportSeverity.Skipped, s.Text, "TunLB runs no script when a real server goes up or down; watch its API or metrics");
                    break;
                default:
                    if (CheckerKinds.Contains(s.Keyword)) checkers.Add(s);
                    else Unknown(s, "real_server");
                    break;
            }
        }
        if (r.UpperThreshold is { } up && r.LowerThreshold is { } lo && up > 0 && lo > up)
        {
            Add(rs, ImportSeverity.Skipped, rs.Text, $"lthreshold {lo} is above uthreshold {up}; lthreshold not converted");
            r.LowerThreshold = null;
        }
        if (method == "NAT" && port != svc.Port)
            Add(rs, ImportSeverity.Changed, rs.Text,
                $"keepalived's NAT sent port {svc.Port} connections to port {port}; TunLB's tunnel does not rewrite ports, " +
                $"so the service on this real server must listen on port {svc.Port}");

        foreach (var c in checkers)
        {
            if (r.Check is not null)
            {
                Add(c, ImportSeverity.Skipped, c.Keyword,
                    "TunLB runs one health check per real server; keepalived also required this one to pass; not converted");
                continue;
            }
            r.Check = Checker(c, d, vsDefaults, addr, rs);
        }
        if (checkers.Count > 0 && r.Check is null)
            Add(rs, ImportSeverity.Changed, rs.Text, "no health check could be converted; this real server is not health-checked (check type none)");
        return r;
    }

    // ------------------------------------------------------------------ checkers

    private TomlKeys? Checker(KStatement c, Inherited realDefaults, Inherited vsDefaults, IpAddress real, KStatement rs)
    {
        string type;
        switch (c.Keyword)
        {
            case "TCP_CHECK": type = "tcp"; break;
            case "HTTP_GET": type = "http"; break;
            case "SSL_GET": type = "https"; break;
            case "UDP_CHECK": type = "udp"; break;
            case "DNS_CHECK": type = "dns"; break;
            case "MISC_CHECK": type = "misc"; break;
            case "SMTP_CHECK":
                type = "tcp";
                Add(c, ImportSeverity.Changed, c.Keyword, "TunLB has no SMTP check; converted as a TCP connect check (the SMTP dialogue is not tested)");
                break;
            default:
                Add(c, ImportSeverity.Skipped, c.Keyword, c.Keyword switch
                {
                    "PING_CHECK" => "TunLB has no ICMP echo check",
                    "BFD_CHECK" => "TunLB has no BFD",
                    _ => "TunLB has no file-tracking check",
                } + "; not converted");
                return null;
        }

        var d = realDefaults.Clone();
        var k = new TomlKeys { { "type", type } };
        long? checkPort = null;
        double? miscTimeout = null;
        string? command = null, path = null, status = null, host = null, body = null;
        bool miscDynamic = false, urlSeen = false;

        void Connection(KStatement s)
        {
            switch (s.Keyword)
            {
                case "connect_ip":
                    if (Address(s, 0, out var ci, "connect_ip") && ci != real)
                        Add(s, ImportSeverity.Skipped, s.Text,
                            $"TunLB checks the real server's own address ({rs.Arg(0)}), not another one; connect_ip not converted");
                    break;
                case "connect_port": if (Integer(s, 1, 65535, out var p)) checkPort = p; break;
                case "bindto" or "bind_if" or "bind_port" or "fwmark":
                    Add(s, ImportSeverity.Skipped, s.Text, "TunLB checks from the director's own address and port; not converted");
                    break;
                default: Unknown(s, c.Keyword); break;
            }
        }

        foreach (var s in c.Block ?? [])
        {
            if (Special(s) || InheritedSetting(s, d)) continue;
            if (s.Keyword == "log_all_failures")
            {
                Add(s, ImportSeverity.Note, s.Text, "TunLB logs check state changes; ignored");
                continue;
            }
            switch (type, s.Keyword)
            {
                case ("http" or "https", "url"):
                    if (urlSeen)
                    {
                        Add(s, ImportSeverity.Skipped, $"url {{ {string.Join(' ', (s.Block ?? []).Select(x => x.Text))} }}",
                            "TunLB checks one URL per real server; this additional url is not converted");
                        break;
                    }
                    urlSeen = true;
                    Url(s, ref path, ref status, ref host, ref body);
                    break;
                case ("http" or "https", "http_protocol" or "fast_recovery"):
                    Add(s, ImportSeverity.Note, s.Text, "not a TunLB check setting; ignored");
                    break;
                case ("https", "enable_sni" or "sni_name" or "tls_compliant"):
                    Add(s, ImportSeverity.Skipped, s.Text, "TunLB's https check has no such TLS setting; not converted");
                    break;
                case ("udp", "payload" or "require_reply" or "min_reply_length" or "max_reply_length"):
                    Add(s, ImportSeverity.Skipped, s.Text, "TunLB's udp check has no payload or reply matching; not converted");
                    break;
                case ("dns", "type" or "name"):
                    Add(s, ImportSeverity.Skipped, s.Text, "TunLB's dns check has no query type or name setting; not converted");
                    break;
                case ("tcp", "helo_name") when c.Keyword == "SMTP_CHECK":
                    Add(s, ImportSeverity.Note, s.Text, "no SMTP dialogue in a TCP check; ignored");
                    break;
                case ("tcp", "host") when c.Keyword == "SMTP_CHECK":
                    if (k.Get("host_seen") is null)
                    {
                        k.Set("host_seen", true);
                        foreach (var hs in s.Block ?? []) Connection(hs);
                    }
                    else Add(s, ImportSeverity.Skipped, "host { ... }", "TunLB checks one address per real server; this host is not checked");
                    break;
                case ("misc", "misc_path"):
                    command = Script(s);
                    break;
                case ("misc", "misc_timeout"): if (Timer(s, out var mt)) miscTimeout = mt; break;
                case ("misc", "misc_dynamic"): miscDynamic = true; break;
                case ("misc", "user"):
                    Add(s, ImportSeverity.Skipped, s.Text, "TunLB runs check commands as its own user; not converted");
                    break;
                case ("misc", _):
                    Unknown(s, c.Keyword);
                    break;
                default:
                    Connection(s);
                    break;
            }
        }
        k.RemoveAll(kv => kv.Key == "host_seen");

        double interval = d.DelayLoop ?? DefaultDelayLoop;
        long retry = d.Retry ?? type switch { "dns" => 3, "misc" => 0, _ => 1 };
        double delayBeforeRetry = d.DelayBeforeRetry ?? type switch { "dns" => interval, "http" or "https" => 3, _ => 1 };

        if (type is "http" or "https")
        {
            if (!urlSeen) Add(c, ImportSeverity.Note, c.Keyword, "no url block; the check requests \"/\"");
            k.Add(new("path", path ?? "/"));
            k.Add(new("expect_status", status ?? DefaultStatus));
            if (body is not null) k.Add(new("expect_body", body));
            if ((host ?? d.VirtualHost) is { } h) k.Add(new("host", h));
            // keepalived's SSL_GET does not verify the server certificate; keep that behaviour.
            if (type == "https") k.Add(new("tls_skip_verify", true));
        }
        if (checkPort is { } cp) k.Add(new("port", cp));
        k.Add(new("interval", interval));
        k.Add(new("timeout", type == "misc" ? miscTimeout ?? vsDefaults.DelayLoop ?? DefaultDelayLoop : d.ConnectTimeout ?? DefaultConnectTimeout));
        k.Add(new("rise", 1L));
        k.Add(new("fall", retry + 1));
        k.Add(new("alpha", d.Alpha ?? false));
        // keepalived connects to the real server's own address, which in LVS-TUN proves little: the service
        // listens on the VIP behind the tunnel (keepalived #306). TunLB's default checks VIP:port through the
        // tunnel to this one real server, proving tunnel, decapsulation, service and reply route together.
        k.Add(new("via", "tunnel"));
        k.Add(new("on_failure", d.Inhibit == true ? "inhibit" : "remove"));
        if (type == "misc")
        {
            if (command is null)
            {
                Add(c, ImportSeverity.Skipped, c.Keyword, "MISC_CHECK without misc_path; not converted");
                return null;
            }
            k.Add(new("command", command));
            k.Add(new("dynamic", miscDynamic));
        }
        if (retry > 0 && delayBeforeRetry != interval)
            Add(c, ImportSeverity.Note, c.Keyword,
                $"keepalived re-tried a failed check {retry} time(s) {Num(delayBeforeRetry)} s apart before marking the server down; " +
                $"converted as fall = {retry + 1} checks {Num(interval)} s apart (interval = delay_loop), so detection takes " +
                $"about {Num(retry * interval)} s instead of {Num(retry * delayBeforeRetry)} s after the first failure");
        return k;
    }

    private void Url(KStatement u, ref string? path, ref string? status, ref string? host, ref string? body)
    {
        foreach (var s in u.Block ?? [])
        {
            if (Special(s)) continue;
            switch (s.Keyword)
            {
                case "path": path = s.Arg(0); break;
                case "virtualhost": host = s.Arg(0); break;
                case "status_code": status = StatusCodes(s); break;
                case "digest":
                    Add(s, ImportSeverity.Skipped, s.Text,
                        "TunLB has no page digest (MD5) check; expect_body matches text, not a hash; the check now tests the status code only");
                    break;
                case "regex":
                    if (s.Arg(0).IndexOfAny(@"\^$.|?*+()[]{}".ToCharArray()) < 0)
                    {
                        body = s.Arg(0);
                        Add(s, ImportSeverity.Note, s.Text, "a regex without special characters; converted to expect_body (plain text TunLB looks for in the body)");
                    }
                    else Add(s, ImportSeverity.Skipped, s.Text, "TunLB's expect_body is plain text, not a regular expression; not converted");
                    break;
                case "regex_no_match" or "regex_options" or "regex_stack" or "regex_min_offset" or "regex_max_offset":
                    Add(s, ImportSeverity.Skipped, s.Text, "TunLB has no regular-expression body matching; not converted");
                    break;
                case "tls_compliant":
                    Add(s, ImportSeverity.Skipped, s.Text, "TunLB's https check has no such TLS setting; not converted");
                    break;
                default: Unknown(s, "url"); break;
            }
        }
    }

    /// <summary>status_code 200 or 200-299 400-499 503: merged into ranges; TunLB takes one range.</summary>
    private string? StatusCodes(KStatement s)
    {
        var ranges = new List<(int Lo, int Hi)>();
        foreach (var a in s.Args)
        {
            var parts = a.Text.Split('-');
            if (parts.Length is < 1 or > 2 || !int.TryParse(parts[0], CultureInfo.InvariantCulture, out var lo)
                || !int.TryParse(parts[^1], CultureInfo.InvariantCulture, out var hi) || lo < 100 || hi > 599 || lo > hi)
            {
                Add(s, ImportSeverity.Skipped, s.Text, $"\"{a.Text}\" is not an HTTP status code or range; status_code not converted (expect 200-299)");
                return null;
            }
            ranges.Add((lo, hi));
        }
        if (ranges.Count == 0) return null;
        ranges.Sort();
        var merged = new List<(int Lo, int Hi)> { ranges[0] };
        foreach (var r in ranges.Skip(1))
        {
            if (r.Lo <= merged[^1].Hi + 1) merged[^1] = (merged[^1].Lo, Math.Max(merged[^1].Hi, r.Hi));
            else merged.Add(r);
        }
        static string F((int Lo, int Hi) r) => r.Lo == r.Hi ? $"{r.Lo}" : $"{r.Lo}-{r.Hi}";
        if (merged.Count > 1)
            Add(s, ImportSeverity.Changed, s.Text,
                $"TunLB's expect_status is one range; converted as {F(merged[0])}, so {string.Join(' ', merged.Skip(1).Select(F))} no longer count as up");
        return F(merged[0]);
    }

    /// <summary>
    /// TunLB has a service-wide [service.check] and per-real overrides: keys every real server
    /// agrees on go to the service, the rest to each real. When the check types differ the service
    /// default is type "none" and each real with a check carries all of it.
    /// </summary>
    private static void FactorChecks(OutService svc)
    {
        if (svc.Reals.Count == 0) return;
        var none = new TomlKeys { { "type", "none" } };
        var checks = svc.Reals.Select(r => r.Check ?? none).ToList();
        var type = checks[0].Get("type");
        if (checks.All(c => Equals(c.Get("type"), type)))
        {
            var common = new TomlKeys();
            common.AddRange(checks[0].Where(kv => checks.All(c => c.Any(o => o.Key == kv.Key && Equals(o.Value, kv.Value)))));
            svc.Check = common;
            foreach (var r in svc.Reals)
            {
                var own = new TomlKeys();
                own.AddRange((r.Check ?? none).Where(kv => !common.Any(o => o.Key == kv.Key && Equals(o.Value, kv.Value))));
                r.CheckOverride = own.Count > 0 ? own : null;
            }
        }
        else
        {
            svc.Check = none;
            foreach (var r in svc.Reals) r.CheckOverride = r.Check;
        }
    }

    private static string Num(double v) => v.ToString("0.###", CultureInfo.InvariantCulture);
}
