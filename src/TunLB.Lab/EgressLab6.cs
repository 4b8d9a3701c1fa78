namespace TunLB.Lab;

/// <summary>
/// The IPv6 counterpart of <see cref="EgressLab"/> (2001:db8::/32 only): the same provider path and scenarios, with
/// ip6 nftables rules for the filters (IPv6 has no rp_filter, so <see cref="EgressScenario.EdgeRpFilter"/> is not offered).
/// <code>
///  rs 2001:db8:1::131 (VIP 2001:db8:10::10 on lo)
///   └─ edge 2001:db8:1::1 ─ 2001:db8:18:10::1 ── ::2 upstream 2001:db8:18:20::1 ── ::2 inet ─┬─ 2001:db8:100::1 ── target 2001:db8:100::10
///      hop 1                                     hop 2                            hop 3      └─ 2001:db8:113::1 ── director 2001:db8:113::2
///                                                                                               (VIP routed to it)
/// </code>
/// Linux routers answer expiring probes from the address of the interface the probe came in on, so both series see the
/// same router addresses (<see cref="EdgeRouter"/>, <see cref="UpstreamRouter"/>, <see cref="InetRouter"/>); the
/// routers' upstream-facing addresses are <see cref="EdgeUp"/>, <see cref="UpstreamUp"/> and <see cref="InetToDirector"/>.
/// ICMPv6 rate limiting is off in the routers and the target (net.ipv6.icmp.ratelimit = 0) so the test does not
/// depend on timing; real routers do rate-limit (see docs/egress-check.md).
/// </summary>
public sealed class EgressLab6 : IEgressLab
{
    public const string Vip = "2001:db8:10::10";
    public const string RealServer = "2001:db8:1::131";
    public const string EdgeRouter = "2001:db8:1::1";
    public const string UpstreamRouter = "2001:db8:18:10::2";
    public const string InetRouter = "2001:db8:18:20::2";
    public const string EdgeUp = "2001:db8:18:10::1";
    public const string UpstreamUp = "2001:db8:18:20::1";
    public const string InetToDirector = "2001:db8:113::1";
    public const string Target = "2001:db8:100::10";
    public const string Director = "2001:db8:113::2";
    public const int TargetHop = 4;
    public const int ListenPort = 9401;

    public Topology Topology { get; }
    public EgressScenario Scenario { get; }

    private EgressLab6(Topology t, EgressScenario s) { Topology = t; Scenario = s; }

    public static EgressLab6 Build(string prefix, EgressScenario scenario)
    {
        if (scenario == EgressScenario.EdgeRpFilter) throw new ArgumentException("IPv6 has no rp_filter; use EdgeNftables", nameof(scenario));
        var t = new Topology(prefix);
        try
        {
            foreach (var (role, router) in new[] { ("rs", false), ("edge", true), ("upstream", true), ("inet", true), ("target", false), ("director", false) })
            {
                t.Host(role, router);
                Netns.Sysctl(t.Ns(role), "net.ipv6.conf.all.forwarding", router ? "1" : "0");
                Netns.Sysctl(t.Ns(role), "net.ipv6.icmp.ratelimit", "0");
            }
            Link(t, "rs", "eth0", RealServer, "edge", "cust", EdgeRouter);
            Link(t, "edge", "up", EdgeUp, "upstream", "down", UpstreamRouter, 64);
            Link(t, "upstream", "up", UpstreamUp, "inet", "down", InetRouter, 64);
            Link(t, "inet", "tgt", "2001:db8:100::1", "target", "eth0", Target);
            Link(t, "inet", "dir", InetToDirector, "director", "eth0", Director);
            t.Exec("rs", "ip", "-6", "addr", "add", Vip + "/128", "dev", "lo", "nodad");

            t.DefaultRoute("rs", EdgeRouter);
            t.DefaultRoute("edge", UpstreamRouter);
            t.DefaultRoute("upstream", InetRouter);
            t.Route("upstream", "2001:db8:1::/64", EdgeUp);
            t.DefaultRoute("target", "2001:db8:100::1");
            t.DefaultRoute("director", InetToDirector);
            t.Route("inet", "2001:db8:1::/64", UpstreamUp);
            t.Route("inet", "2001:db8:18:10::/64", UpstreamUp);
            t.Route("inet", Vip + "/128", Director);

            switch (scenario)
            {
                case EgressScenario.EdgeNftables:
                    Bcp38(t, "edge", "cust", "2001:db8:1::/64");
                    break;
                case EgressScenario.UpstreamNftables:
                    Bcp38(t, "upstream", "down", "2001:db8:1::/64, 2001:db8:18:10::/64");
                    break;
                case EgressScenario.EdgeForwardNftables:
                    t.Exec("edge", "nft",
                        "add table ip6 egfwd; add chain ip6 egfwd f { type filter hook forward priority 0; policy accept; }; " +
                        "add rule ip6 egfwd f iifname \"cust\" ip6 saddr != 2001:db8:1::/64 drop");
                    break;
                case EgressScenario.SilentTarget:
                    t.Exec("target", "nft", "add table ip6 silent; add chain ip6 silent in { type filter hook input priority 0; policy accept; }; add rule ip6 silent in meta l4proto udp drop");
                    break;
            }
            return new EgressLab6(t, scenario);
        }
        catch
        {
            t.Dispose();
            throw;
        }
    }

    /// <summary>A veth pair with an IPv6 address on each end, added without duplicate address detection (usable at once).</summary>
    private static void Link(Topology t, string a, string ifA, string addrA, string b, string ifB, string addrB, int plen = 64)
    {
        t.Link(a, ifA, null, b, ifB, null);
        t.Exec(a, "ip", "-6", "addr", "add", $"{addrA}/{plen}", "dev", ifA, "nodad");
        t.Exec(b, "ip", "-6", "addr", "add", $"{addrB}/{plen}", "dev", ifB, "nodad");
    }

    /// <summary>
    /// BCP 38 on a customer-facing interface, IPv6: drop, on ingress, sources outside the customer's prefixes. Link-local
    /// sources (fe80::/10: neighbour discovery) stay allowed, as on a real router.
    /// </summary>
    private static void Bcp38(Topology t, string role, string ifName, string prefixes) =>
        t.Exec(role, "nft",
            $"add table ip6 bcp38; add chain ip6 bcp38 ingress {{ type filter hook prerouting priority -300; policy accept; }}; " +
            $"add rule ip6 bcp38 ingress iifname \"{ifName}\" ip6 saddr != {{ fe80::/10, {prefixes} }} drop");

    public static string ExpectedSummary(EgressScenario s) => s switch
    {
        EgressScenario.Open => $"ALLOWED ({TargetHop} hops)",
        EgressScenario.EdgeNftables => $"BLOCKED AT HOP 1 ({EdgeRouter})",
        EgressScenario.UpstreamNftables or EgressScenario.EdgeForwardNftables => $"BLOCKED AT HOP 2 ({UpstreamRouter})",
        _ => "INCONCLUSIVE",
    };

    /// <summary>Starts `tunlb egress-listen` in the director namespace for the IPv6 VIP, reachable from the real server.</summary>
    public BackgroundProcess StartListener(string[] tunlb, string token)
    {
        var p = Topology.Start("director", "egress-listen6", tunlb[0],
            [.. tunlb.Skip(1), "egress-listen", "--vip", Vip, "--listen", $"[{Director}]:{ListenPort}", "--token", token]);
        if (!p.WaitForOutput("listening on", LabServices.StartTimeoutMs))
            throw new InvalidOperationException($"egress-listen did not start:\n{p.Output}");
        return p;
    }

    public Sh.Result RunCheck(string[] tunlb, string token, params string[] extra) =>
        Topology.Try("rs", 120_000, [tunlb[0], .. tunlb.Skip(1), "egress-check", "--vip", Vip, "--target", Target,
            "--listener", $"http://[{Director}]:{ListenPort}", "--token", token, "--max-hops", "8", "--timeout", "2", .. extra]);

    /// <summary>
    /// The manual procedure over IPv6: tcpdump on the director (ICMPv6 to the VIP) while the real server runs
    /// `traceroute -6 -s VIP -n TARGET`, plus a plain `traceroute -6 -n TARGET`.
    /// </summary>
    public EgressManualResult RunManualProcedure(string workDir)
    {
        Directory.CreateDirectory(workDir);
        var pcap = Path.Combine(workDir, $"manual6-{Scenario}.pcap");
        using var cap = Capture.Start(Topology, "director", "eth0", pcap, $"icmp6 and dst host {Vip}");
        string tr = Topology.Try("rs", 120_000, "traceroute", "-6", "-s", Vip, "-n", "-m", "6", "-q", "2", "-w", "1", Target).Stdout;
        Thread.Sleep(500);
        cap.Stop();
        int icmp = cap.Count($"icmp6 and dst host {Vip}");
        // ICMPv6 type 1 (destination unreachable) directly after the 40-byte header.
        int fromTarget = cap.Count($"icmp6 and src host {Target} and ip6[40] == 1");
        var routers = cap.Fields("icmpv6.type == 3", "ipv6.src").Select(f => f[0].Split(',')[0]).Where(a => a.Length > 0).Distinct().ToList();
        string own = Topology.Try("rs", 120_000, "traceroute", "-6", "-n", "-m", "6", "-q", "1", "-w", "1", Target).Stdout;
        return new EgressManualResult(icmp, fromTarget, routers, tr, own);
    }
}
