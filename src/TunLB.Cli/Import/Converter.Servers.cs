using System.Globalization;
using TunLB.Control.Configuration;
using TunLB.Core.Flows;

namespace TunLB.Cli.Import;

internal sealed partial class Converter
{
    private void VirtualServer(KStatement vs)
    {
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
        List<(string Text, IpAddress Vip, long Port)> members;
        if (vs.Arg(0) == "group")
        {
            members = GroupMembers(vs);
            if (vs.Args.Count > 2) ExtraWords(vs, 2);
        }
        else
        {
            if (!Address(vs, 0, out var vip, "virtual_server address; block skipped")) return;
            long port = 0;
            if (vs.Args.Count >= 2 && !Integer(vs, 0, 65535, out port, 1)) return;
            if (vs.Args.Count > 2) ExtraWords(vs, 2);
            members = [(vs.Arg(0), vip, port)];
        }
        foreach (var (text, vip, port) in members) Convert(vs, text, vip, port);
    }

    private void ExtraWords(KStatement s, int from) =>
        Add(s, ImportSeverity.Note, s.Text,
            $"keepalived ignores the words after the address and port ({string.Join(' ', s.Args.Skip(from).Select(a => a.Text))}); " +
            "so does the import (settings such as the protocol belong inside the block)");

    /// <summary>virtual_server keywords the import reads but does not convert, with what the report says about each.</summary>
    private static readonly Dictionary<string, (ImportSeverity Severity, string Why)> VirtualServerUnused = new()
    {
        ["persistence_engine"] = (ImportSeverity.Skipped, "TunLB has no persistence engines (SIP Call-ID); persistence is by client address"),
        ["ops"] = (ImportSeverity.Skipped, "TunLB has no one-packet scheduling (ipvsadm -o)"),
        ["hashed"] = (ImportSeverity.Skipped, "the IPVS 'hashed' flag has no TunLB equivalent"),
        ["ha_suspend"] = (ImportSeverity.Skipped, "TunLB always checks real servers (there is no VRRP-owned address to wait for)"),
        ["omega"] = (ImportSeverity.Skipped, "TunLB runs no quorum or real-server scripts at shutdown"),
        ["ip_family"] = (ImportSeverity.Note, "the address family comes from the addresses; ignored"),
        ["nat_mask"] = (ImportSeverity.Note, "a NAT setting; with a tunnel there is no NAT, so it has nothing to do"),
        ["sorry_server_inhibit"] = (ImportSeverity.Skipped, "TunLB adds or removes the sorry server; it has no inhibit mode for it"),
    };

    private void Convert(KStatement vs, string vipText, IpAddress vip, long port)
    {
        var svc = new OutService
        {
            Vip = vipText, Port = port, SourceFile = vs.File, SourceLine = vs.Line, SourceText = vs.Text,
        };
        var d = new Inherited();
        string method = "NAT";
        bool methodSet = false, protocolOk = true, persistent = false;
        long defaultWeight = 1;
        KStatement? sched = null, sorryMethod = null, hysteresis = null;
        var flags = new List<KStatement>();
        var reals = new List<KStatement>();

        foreach (var s in vs.Block!)
        {
            if (Special(s) || InheritedSetting(s, d, virtualServer: true)) continue;
            switch (s.Keyword)
            {
                case "lvs_sched" or "lb_algo": sched = s; break;
                case "lvs_method" or "lb_kind": method = Method(s); methodSet = true; break;
                case "persistence_timeout":
                    if (s.Args.Count == 0) { svc.Persistence = DefaultPersistenceTimeout; persistent = true; }
                    else if (Integer(s, 0, ConfigLoader.MaxTimeoutSeconds, out var p)) { svc.Persistence = p; persistent = p > 0; }
                    break;
                case "persistence_granularity": Granularity(s, svc, vip); break;
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
                case "quorum":
                    if (s.Args.Count > 0 && long.TryParse(s.Arg(0), NumberStyles.None, CultureInfo.InvariantCulture, out var q) && q >= 1)
                        svc.Quorum = Math.Min(q, int.MaxValue);
                    else
                    {
                        // keepalived: "Quorum ... must be in [1, ...]. Setting to 1."
                        Add(s, ImportSeverity.Note, s.Text, "keepalived takes a quorum below 1 (or not a number) as 1; so does the import");
                        svc.Quorum = 1;
                    }
                    break;
                case "hysteresis": if (Integer(s, 0, int.MaxValue, out var h)) { svc.Hysteresis = h; hysteresis = s; } break;
                case "quorum_up": svc.QuorumUp = Script(s); break;
                case "quorum_down": svc.QuorumDown = Script(s); break;
                case "weight": if (Integer(s, 0, 65535, out var w)) defaultWeight = w; break;
                case "sorry_server": Sorry(s, svc, port); break;
                case "sorry_server_lvs_method": sorryMethod = s; break;
                case "real_server": reals.Add(s); break;
                default:
                    if (VirtualServerUnused.TryGetValue(s.Keyword, out var unused)) Add(s, unused.Severity, s.Text, unused.Why);
                    else if (CheckerKinds.Contains(s.Keyword))
                        Add(s, ImportSeverity.Skipped, s.Keyword, "a checker belongs inside a real_server block; not converted");
                    else Unknown(s, "virtual_server");
                    break;
            }
        }
        if (!protocolOk) return;
        if (!methodSet)
            Add(vs, ImportSeverity.Note, vs.Text, "no lvs_method: keepalived's default is NAT; " + TunnelOnly);
        if (sorryMethod is not null && svc.Sorry is not null) Method(sorryMethod);
        if (svc.Hysteresis is { } hy && hy >= (svc.Quorum ?? 1))
        {
            // keepalived: "hysteresis H >= quorum Q; setting hysteresis to Q-1".
            svc.Hysteresis = (svc.Quorum ?? 1) - 1;
            Add(hysteresis!, ImportSeverity.Note, hysteresis!.Text,
                $"keepalived lowers a hysteresis that is not below the quorum to quorum - 1 = {svc.Hysteresis}; so does the import");
        }
        if (port == 0 && !persistent)
        {
            Add(vs, ImportSeverity.Skipped, vs.Text, "a virtual_server without a port must be persistent (persistence_timeout); block skipped");
            return;
        }

        svc.Scheduler = Scheduler(sched);
        SchedulerFlags(flags, svc);

        var key = (vip, port, svc.Protocol);
        var target = _seen.GetValueOrDefault(key);
        if (target is not null)
            Add(vs, ImportSeverity.Note, vs.Text,
                $"the same service ({svc.Protocol} {vipText} port {port}) as {target.SourceFile}:{target.SourceLine}: its real servers join that " +
                "service (IPVS has one service per address, port and protocol, so keepalived's second add of it fails and the first " +
                "block's scheduler and persistence stay); so does the import");
        target ??= svc;
        foreach (var rs in reals)
        {
            // A duplicate address is dropped before its body is converted, so its settings are not reported too.
            if (ConfigText.TryParseIp(rs.Arg(0), out var ra, out _) && target.Reals.FirstOrDefault(x => x.Ip == ra) is { } first)
            {
                Add(rs, ImportSeverity.Skipped, rs.Text,
                    $"{rs.Arg(0)} is already a real server of this service (line {first.SourceLine}); TunLB's tunnel does not " +
                    "rewrite ports, so one address is one server; this one is not converted");
                continue;
            }
            var r = RealServer(rs, svc, vip, d, method, defaultWeight);
            if (r is null) continue;
            r.Ip = ra;
            target.Reals.Add(r);
        }
        if (ReferenceEquals(target, svc))
        {
            _seen.Add(key, svc);
            _services.Add(svc);
        }
    }

    private void Sorry(KStatement s, OutService svc, long port)
    {
        if (!Address(s, 0, out var sa, "sorry_server")) return;
        long sp = port;
        if (s.Args.Count >= 2 && !Integer(s, 0, 65535, out sp, 1)) return;
        if (sa.IsV4 ? sa.V4 >> 24 == 127 : sa.Hi == 0 && sa.Lo == 1)
        {
            svc.LoopbackSorry = $"{s.Arg(0)} port {sp}";
            Add(s, ImportSeverity.Skipped, s.Text,
                "a loopback sorry server is the director itself answering (keepalived's NAT to a local page); TunLB only tunnels to " +
                "other hosts, so it is written as a comment: serve the sorry page from a host and name that host here");
            return;
        }
        svc.Sorry = (s.Arg(0), sp);
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


    private OutReal? RealServer(KStatement rs, OutService svc, IpAddress vip, Inherited vsDefaults, string method, long weight)
    {
        // Families may differ: the tunnel carries IPv6 in IPv4 and IPv4 in IPv6.
        if (!Address(rs, 0, out var addr, "real_server; not converted")) return null;
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
            r.Check = Checker(c, d, vsDefaults, addr, rs, vip, svc, port);
        }
        if (checkers.Count > 0 && r.Check is null)
            Add(rs, ImportSeverity.Changed, rs.Text, "no health check could be converted; this real server is not health-checked (check type none)");
        return r;
    }
}
