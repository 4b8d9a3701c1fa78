using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Text.Json;
using TunLB.Cli.Egress;
using TunLB.Cli.Isp;
using TunLB.Control.Configuration;
using TunLB.Control.Api;
using TunLB.Control.Egress;
using TunLB.Core.Egress;
using TunLB.Core.Flows;
using TunLB.Linux;
using TunLB.Linux.Egress;

namespace TunLB.Cli.Commands;

/// <summary>`tunlb egress-check` (on a real server) and `tunlb egress-listen` (on a director). See docs/egress-check.md.</summary>
public static class EgressCommands
{
    public static Command CreateCheck()
    {
        var vip = new Option<string>("--vip") { Description = "The VIP, IPv4 or IPv6 (a local address of this real server)", Required = true };
        var target = new Option<string>("--target") { Description = "One IPv4 or IPv6 address of your own to probe toward (e.g. a client or a host you run elsewhere), of the VIP's family", Required = true };
        var listener = new Option<string>("--listener") { Description = "Where the director's answers are served: http://DIRECTOR:PORT (egress-listen or the TunLB director API)", Required = true };
        var token = new Option<string?>("--token") { Description = "Bearer token of the listener" };
        var maxHops = new Option<int>("--max-hops") { Description = $"Highest TTL to probe (1..{EgressProbePlan.MaxHopsLimit})", DefaultValueFactory = _ => 16 };
        var perHop = new Option<int>("--probes-per-hop") { Description = $"Probes per hop and series (1..{EgressProbePlan.MaxProbesPerHopLimit})", DefaultValueFactory = _ => 2 };
        var rate = new Option<string>("--rate") { Description = $"Probes per second, e.g. 20/s (at most {EgressProbePlan.MaxRate}/s)", DefaultValueFactory = _ => "20/s" };
        var timeout = new Option<double>("--timeout") { Description = "Seconds to wait for answers after the last probe (1..60)", DefaultValueFactory = _ => 3 };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON" };
        var report = new Option<bool>("--report") { Description = "Also print a data/isps.toml entry for this provider, ready to contribute" };
        var provider = new Option<string?>("--provider") { Description = "The real server's provider (name or alias in data/providers.toml): when blocked at hop 1, print the setting to change; also the name for --report" };
        var post = new Option<bool>("--post") { Description = "Report the result to the director (POST /api/v1/egress/results at --listener, which must then be the TunLB director API)" };
        var real = new Option<string?>("--real") { Description = "With --post: this real server's address as the director's config names it (default: this host's source address toward the target)" };
        var noHost = new Option<bool>("--no-host-checks") { Description = "Do not check this host's own source validation (rp_filter, nftables fib saddr/rpfilter, firewalld IPv6_rpfilter)" };
        var place = new Option<string?>("--place") { Description = "Datacenter/city/country for --report" };
        var cmd = new Command("egress-check",
            "On a real server: test whether the provider lets packets with the VIP as source out (traceroute-style probes " +
            "from the VIP and from this host's own address; answers to the VIP are collected at the director). " +
            "Exit 0 ALLOWED, 1 BLOCKED, 2 INCONCLUSIVE.");
        foreach (var o in new Option[] { vip, target, listener, token, maxHops, perHop, rate, timeout, json, report, provider, place, noHost, post, real }) cmd.Options.Add(o);
        cmd.SetAction(pr => RunCheck(pr.GetValue(vip)!, pr.GetValue(target)!, pr.GetValue(listener)!, pr.GetValue(token),
            pr.GetValue(maxHops), pr.GetValue(perHop), pr.GetValue(rate)!, pr.GetValue(timeout), pr.GetValue(json),
            pr.GetValue(report), pr.GetValue(provider), pr.GetValue(place), !pr.GetValue(noHost), pr.GetValue(post), pr.GetValue(real)));
        return cmd;
    }

    public static Command CreateListen()
    {
        var vip = new Option<string>("--vip") { Description = "The VIP (IPv4 or IPv6) whose incoming ICMP/ICMPv6 errors to record", Required = true };
        var listen = new Option<string>("--listen") { Description = "HTTP address for egress-check (a non-loopback address requires --token)", DefaultValueFactory = _ => "127.0.0.1:9401" };
        var token = new Option<string?>("--token") { Description = "Bearer token required from egress-check" };
        var iface = new Option<string?>("--interface") { Description = "Capture on this interface only (default: all)" };
        var cmd = new Command("egress-listen",
            "On a director (TunLB or kernel LVS): capture ICMP errors sent to the VIP that answer egress-check probes " +
            "(AF_PACKET, so even packets the kernel then drops), and serve them over HTTP to egress-check.");
        foreach (var o in new Option[] { vip, listen, token, iface }) cmd.Options.Add(o);
        cmd.SetAction(pr => RunListen(pr.GetValue(vip)!, pr.GetValue(listen)!, pr.GetValue(token), pr.GetValue(iface)));
        return cmd;
    }

    internal static bool TryParseRate(string s, out double perSecond)
    {
        s = s.Trim();
        foreach (var suffix in new[] { "/s", "/sec", "pps" })
            if (s.EndsWith(suffix, StringComparison.OrdinalIgnoreCase)) { s = s[..^suffix.Length]; break; }
        return double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out perSecond) && perSecond > 0;
    }

    /// <summary>One IPv4 or IPv6 address literal (no prefix, no scope, no name).</summary>
    internal static bool TryParseIp(string s, out IpAddress a)
    {
        a = default;
        if (s.Contains('/') || s.Contains('%') || !IPAddress.TryParse(s, out var ip)) return false;
        if (ip.AddressFamily is not (System.Net.Sockets.AddressFamily.InterNetwork or System.Net.Sockets.AddressFamily.InterNetworkV6)) return false;
        if (ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 && !s.Contains(':')) return false;
        a = IpAddress.FromIPAddress(ip);
        return true;
    }

    private static int RunCheck(string vipText, string targetText, string listener, string? token, int maxHops, int perHop,
        string rateText, double timeoutSeconds, bool json, bool report, string? provider, string? place, bool hostChecks = true, bool post = false, string? realText = null)
    {
        const int NoVerdict = (int)EgressVerdictKind.Inconclusive;
        void Fail(string m) => Console.Error.WriteLine($"tunlb egress-check: {m}");
        if (!TryParseIp(vipText, out var vip)) { Fail($"--vip {vipText}: expected one IPv4 or IPv6 address"); return NoVerdict; }
        if (!TryParseIp(targetText, out var target)) { Fail($"--target {targetText}: expected one IPv4 or IPv6 address (no ranges, no names)"); return NoVerdict; }
        if (vip.IsV4 != target.IsV4) { Fail($"--target {targetText}: must be of the VIP's address family"); return NoVerdict; }
        ProviderEntry? providerEntry = null;
        if (provider is not null && ProviderCatalog.Locate() is { } ppath)
        {
            try { var found = ProviderCatalog.Find(ProviderCatalog.Load(ppath), provider); if (found.Count == 1) providerEntry = found[0]; }
            catch (Exception e) when (e is ConfigException or IOException) { Fail($"{ppath}: {e.Message}"); }
        }
        if (!TryParseRate(rateText, out double rate)) { Fail($"--rate {rateText}: expected N/s"); return NoVerdict; }

        IpAddress control;
        try { using var host = new HostNetwork(); control = host.SourceAddressToward(target); }
        catch (Exception e) { Fail($"no route to {target}: {e.Message}"); return NoVerdict; }

        var session = EgressSessionId.NewRandom();
        var plan = new EgressProbePlan(vip, control, target, session, maxHops, perHop, rate, TimeSpan.FromSeconds(timeoutSeconds));
        try { plan.Validate(); }
        catch (ArgumentException e) { Fail(e.Message); return NoVerdict; }

        EgressAnswersClient client;
        try { client = new EgressAnswersClient(listener, session, token); }
        catch (ArgumentException e) { Fail(e.Message); return NoVerdict; }
        using (client)
        {
            try { client.Fetch(); }
            catch (Exception e) { Fail($"the listener does not answer: {e.Message}"); return NoVerdict; }

            Action<string>? log = json ? null : m => Console.Error.WriteLine($"tunlb egress-check: {m}");
            log?.Invoke($"session {session}: VIP {vip} and control {control} toward {target}, up to {maxHops} hops × {perHop}, {rate:0.##}/s");
            EgressProbeOutcome outcome;
            try { outcome = EgressProber.Run(plan, () => client.Fetch().Select(d => d.ToAnswer()).ToList(), log); }
            catch (Exception e) { Fail(e.Message); return NoVerdict; }

            var result = EgressVerdict.Decide(vip, control, target, outcome.VipAnswers.Concat(outcome.ControlAnswers));
            var ctx = new EgressCheckContext(vip.ToString(), control.ToString(), target.ToString(), session.ToString(), maxHops, perHop, rate,
                outcome.ProbesSent, outcome.HopsProbed, client.Url.GetLeftPart(UriPartial.Authority), outcome.ListenerError, DateTimeOffset.UtcNow)
            {
                ProviderName = provider, Provider = providerEntry, HostChecks = hostChecks ? HostSourceChecks.Collect() : null,
            };
            if (post)
            {
                var dto = EgressReport.ToDto(result, ctx);
                var rep = new EgressResultReport(realText ?? control.ToString(), dto.Vip, dto.Target, dto.Verdict, dto.Summary,
                    dto.BlockingHop, dto.BlockingRouter, dto.FilterLocation, ctx.When);
                try { client.Post(rep); }
                catch (Exception e) { Fail($"could not report the result to the director: {e.Message}"); }
            }
            if (json) Console.WriteLine(JsonSerializer.Serialize(EgressReport.ToDto(result, ctx), ApiJson.Options));
            else Console.Write(EgressReport.Text(result, ctx));
            if (report)
            {
                Console.WriteLine();
                if (result.Kind == EgressVerdictKind.Inconclusive)
                    Console.WriteLine("# --report: no provider entry for an inconclusive result.");
                else
                    Console.Write(ReportEntry(result, ctx, provider, place));
            }
            return result.ExitCode;
        }
    }

    internal static string ReportEntry(EgressResult r, EgressCheckContext c, string? provider, string? place)
    {
        bool allowed = r.Kind == EgressVerdictKind.Allowed;
        string note = allowed
            ? $"egress-check {c.When:yyyy-MM-dd}: VIP-sourced probes reached the target ({r.Hops} hops)."
            : $"egress-check {c.When:yyyy-MM-dd}: VIP-sourced probes dropped at hop {r.BlockingHop} ({EgressVerdict.Fmt(r.BlockingRouter)}); own-address probes pass.";
        string comment = allowed
            ? "New entry for data/isps.toml (see docs/isps.md); check name and place before contributing."
            : "New entry for data/isps.toml (see docs/isps.md). After asking the provider, change the status to\nallows-by-exception or custom-router-setup if they make an exception; keep refuses if they decline.";
        return IspCatalog.Format(provider ?? "PROVIDER NAME", allowed ? "allows" : "refuses", place ?? "CITY, COUNTRY (datacenter)", note, comment);
    }

    private static int RunListen(string vipText, string listen, string? token, string? iface)
    {
        void Fail(string m) => Console.Error.WriteLine($"tunlb egress-listen: {m}");
        if (!TryParseIp(vipText, out var vip)) { Fail($"--vip {vipText}: expected one IPv4 or IPv6 address"); return 2; }
        var recorder = new EgressAnswerRecorder();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        PacketSocket socket;
        try { socket = vip.IsV4 ? PacketSocket.OpenIpv4(EgressBpf.IcmpTo(vip.V4), iface) : PacketSocket.OpenIpv6(EgressBpf.Icmp6To(vip), iface); }
        catch (Exception e) { Fail($"cannot capture: {e.Message}"); return 1; }
        EgressListenServer server;
        try { server = new EgressListenServer(listen, token, recorder, () => clock.ElapsedMilliseconds); }
        catch (Exception e) { socket.Dispose(); Fail($"cannot listen on {listen}: {e.Message}"); return 1; }

        var capture = new Thread(() =>
        {
            var buf = new byte[65536];
            while (true)
            {
                int n = socket.Receive(buf, 500);
                if (n < 0) return;
                if (n == 0) continue;
                if (!EgressAnswer.TryParse(buf.AsSpan(0, n), clock.ElapsedMilliseconds, out var a)) continue;
                recorder.Record(a);
                string session = a.HasSession ? new EgressSessionId(a.Session).ToString() : $"tag {a.Tag:x8}";
                Console.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {EgressVerdict.Fmt(a.From)} > {EgressVerdict.Fmt(a.ProbeSource)}: {a.Describe()} for probe hop {a.Ttl} seq {a.Seq} to {EgressVerdict.Fmt(a.Target)} (session {session})");
            }
        }) { IsBackground = true, Name = "egress capture" };
        capture.Start();
        Console.WriteLine($"tunlb egress-listen: capturing ICMP to {vip} on {iface ?? "all interfaces"}; listening on {server.Prefix}{EgressApi.AnswersPath.TrimStart('/')}");
        var sig = Foreground.WaitForStopSignal();
        server.Dispose();
        socket.Dispose();
        capture.Join(2000);
        Console.WriteLine($"tunlb egress-listen: stopped on {sig}: {recorder.Recorded} answers recorded");
        return 0;
    }
}
