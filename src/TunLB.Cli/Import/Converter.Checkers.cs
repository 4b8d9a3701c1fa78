using System.Globalization;
using TunLB.Core.Flows;

namespace TunLB.Cli.Import;

internal sealed partial class Converter
{
    private TomlKeys? Checker(KStatement c, Inherited realDefaults, Inherited vsDefaults, IpAddress real, KStatement rs,
                              IpAddress vip, OutService svc, long realPort)
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
        string? command = null, path = null, status = null, host = null, body = null, payload = null, expect = null;
        string? queryType = null, queryName = null;
        bool miscDynamic = false, urlSeen = false, requireReply = false, connectVip = false;
        KStatement? fwmark = null;

        void Connection(KStatement s)
        {
            switch (s.Keyword)
            {
                case "connect_ip":
                    if (!Address(s, 0, out var ci, "connect_ip")) break;
                    if (ci == vip)
                    {
                        connectVip = true;
                        Add(s, ImportSeverity.Note, s.Text,
                            "keepalived checked the VIP with a firewall mark that routes the check through the tunnel to this real " +
                            "server (the LVS-TUN pattern); TunLB's via = \"tunnel\" check does exactly that, without the mark");
                    }
                    else if (ci != real)
                        Add(s, ImportSeverity.Skipped, s.Text,
                            $"TunLB checks the real server ({rs.Arg(0)}, or the VIP through the tunnel to it), not another address; connect_ip not converted");
                    break;
                case "connect_port": if (Integer(s, 1, 65535, out var p)) checkPort = p; break;
                case "fwmark": fwmark = s; break;
                case "bindto" or "bind_if" or "bind_port":
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
                case ("udp", "payload"):
                    if (Hex(s, wildcard: false) is { } pl) payload = pl;
                    break;
                case ("udp", "require_reply"):
                    requireReply = true;
                    if (s.Args.Count > 0 && Hex(s, wildcard: true) is { } rr)
                    {
                        if (rr.Contains('\0') || rr.Any(ch => ch > 0x7e || ch < 0x20))
                            Add(s, ImportSeverity.Skipped, s.Text,
                                "TunLB's udp check matches a text in the reply, and this reply pattern is binary or has wildcards; any reply passes");
                        else
                        {
                            expect = rr;
                            Add(s, ImportSeverity.Changed, s.Text,
                                $"keepalived compared the start of the reply with these bytes; TunLB's expect = \"{rr}\" looks for them anywhere in the reply");
                        }
                    }
                    break;
                case ("udp", "min_reply_length" or "max_reply_length"):
                    Add(s, ImportSeverity.Skipped, s.Text, "TunLB's udp check does not test the reply length; not converted");
                    break;
                case ("dns", "type"):
                    if (DnsTypes.Contains(s.Arg(0).ToUpperInvariant())) queryType = s.Arg(0).ToUpperInvariant();
                    else Add(s, ImportSeverity.Note, s.Text, "not a DNS type keepalived knows (A NS CNAME SOA MX TXT AAAA): keepalived ignores it, so does the import");
                    break;
                case ("dns", "name"):
                    if (queryName is null && s.Args.Count > 0 && !s.Arg(0).Contains("..") && (s.Arg(0) == "." || !s.Arg(0).StartsWith('.')))
                        queryName = s.Arg(0);
                    else Add(s, ImportSeverity.Note, s.Text, "keepalived ignores a second name or one with an empty label; so does the import");
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
                    // keepalived passes every word after misc_path to the script as its arguments.
                    if (s.Args.Count == 0) Add(s, ImportSeverity.Skipped, s.Text, "the script is missing");
                    else command = string.Join(' ', s.Args.Select(a => a.Text));
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
        if (fwmark is not null)
        {
            if (connectVip)
                Add(fwmark, ImportSeverity.Note, fwmark.Text, "the mark that sent keepalived's VIP check into the tunnel; TunLB's tunnel check needs none");
            else
                Add(fwmark, ImportSeverity.Skipped, fwmark.Text, "TunLB checks from the director's own address, without a firewall mark; not converted");
        }

        double interval = d.DelayLoop ?? DefaultDelayLoop;
        long retry = d.Retry ?? type switch { "dns" => 3, "misc" => 0, _ => 1 };
        double delayBeforeRetry = d.DelayBeforeRetry ?? type switch { "dns" => interval, "http" or "https" => 3, _ => 1 };

        if (type is "http" or "https")
        {
            if (!urlSeen) Add(c, ImportSeverity.Note, c.Keyword, "no url block; the check requests \"/\"");
            if (path is not null && !path.StartsWith('/'))
            {
                Add(c, ImportSeverity.Changed, $"path {path}",
                    $"keepalived sends \"GET {path} HTTP/1.x\" as written, which most servers answer with 400; converted as /{path}");
                path = "/" + path;
            }
            k.Add(new("path", path ?? "/"));
            k.Add(new("expect_status", status ?? DefaultStatus));
            if (body is not null) k.Add(new("expect_body", body));
            if ((host ?? d.VirtualHost) is { } h) k.Add(new("host", h));
            // keepalived's SSL_GET does not verify the server certificate; keep that behaviour.
            if (type == "https") k.Add(new("tls_skip_verify", true));
        }
        if (type == "udp")
        {
            if (payload is not null) k.Add(new("payload", PayloadText(payload)));
            if (expect is not null) k.Add(new("expect", expect));
            // keepalived's UDP_CHECK without require_reply passes on silence; only an ICMP error fails it.
            k.Add(new("require_reply", requireReply));
        }
        if (type == "dns")
        {
            // keepalived's DNS_CHECK: SOA for the root by default, and any NOERROR response passes.
            k.Add(new("query_type", queryType ?? "SOA"));
            k.Add(new("query_name", queryName ?? "."));
            k.Add(new("require_answer", false));
        }
        // keepalived sends UDP and DNS checks to the real's port also when the service is TCP: say so explicitly.
        if (checkPort is null && type is "udp" or "dns" && svc.Protocol == "tcp") checkPort = realPort;
        if (checkPort is { } cp) k.Add(new("port", cp));
        var (iv, to) = Timing(c, type, interval,
            type == "misc" ? miscTimeout is > 0 ? miscTimeout.Value : vsDefaults.DelayLoop ?? DefaultDelayLoop : d.ConnectTimeout ?? DefaultConnectTimeout);
        k.Add(new("interval", iv));
        k.Add(new("timeout", to));
        k.Add(new("rise", 1L));
        if (retry + 1 > MaxFall)
            Add(c, ImportSeverity.Changed, c.Keyword, $"retry {retry}: TunLB counts at most {MaxFall} failed checks; converted as fall = {MaxFall}");
        k.Add(new("fall", Math.Min(retry + 1, MaxFall)));
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
        var common = new TomlKeys();
        common.AddRange(checks[0].Where(kv => checks.All(c => c.Any(o => o.Key == kv.Key && Equals(o.Value, kv.Value)))));
        // A service default must be a complete check by itself: a misc check needs its command (usually one script per
        // real), a udp or dns check of a tcp service its port.
        bool complete = type as string switch
        {
            "misc" => common.Get("command") is not null,
            "udp" or "dns" => svc.Protocol != "tcp" || common.Get("port") is not null,
            _ => true,
        };
        if (complete && checks.All(c => Equals(c.Get("type"), type)))
        {
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
