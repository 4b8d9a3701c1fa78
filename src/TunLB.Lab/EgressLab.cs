using System.Text.RegularExpressions;

namespace TunLB.Lab;

/// <summary>Provider behaviours the egress lab can reproduce.</summary>
public enum EgressScenario
{
    /// <summary>No filtering anywhere: VIP-sourced packets get out.</summary>
    Open,
    /// <summary>The provider's edge router has strict reverse-path filtering (rp_filter=1) on the customer interface.</summary>
    EdgeRpFilter,
    /// <summary>The edge router drops, on the customer interface, sources outside the customer prefix (nftables, BCP 38).</summary>
    EdgeNftables,
    /// <summary>The edge lets the VIP through; the upstream provider drops sources outside its customer's prefixes (nftables).</summary>
    UpstreamNftables,
    /// <summary>No filtering, but the target never answers (it drops the probes).</summary>
    SilentTarget,
    /// <summary>The edge router answers expiring probes itself but drops, in its forward chain, what it forwards from
    /// customer sources outside the customer prefix (nftables): the block shows one hop later, at the upstream router.</summary>
    EdgeForwardNftables,
}

/// <summary>What the seed's manual procedure shows on one lab: `traceroute -s VIP -n TARGET` on the real server and
/// tcpdump on the director counting ICMP sent to the VIP.</summary>
public sealed record EgressManualResult(int IcmpToVip, int PortUnreachableFromTarget, IReadOnlyList<string> RoutersSeen, string Traceroute, string OwnTraceroute)
{
    /// <summary>The seed's reading: something came back to the VIP from the target → the provider passes VIP-sourced packets.</summary>
    public bool TargetAnsweredVip => PortUnreachableFromTarget > 0;
}

/// <summary>
/// A provider path for `tunlb egress-check`: one real server behind an edge router and an upstream router, a target,
/// and a director that the VIP routes to.
/// <code>
///  rs 192.0.2.131 (VIP 203.0.113.10 on lo)
///   └─ edge 192.0.2.129 ─ 198.18.10.1 ── 198.18.10.2 upstream 198.18.20.1 ── 198.18.20.2 inet ─┬─ 198.51.100.1 ── target 198.51.100.10
///      hop 1                              hop 2                               hop 3           └─ 203.0.113.1 ── director 203.0.113.2
///                                                                                                  (VIP 203.0.113.10/32 routed to it)
/// </code>
/// Routers answer from the address of the interface the probe came in on (icmp_errors_use_inbound_ifaddr=1), as
/// many real routers do, so both series show the same router addresses. Namespaces are unique per build and removed
/// by <see cref="Topology.Dispose"/>.
/// </summary>
public sealed class EgressLab : IEgressLab
{
    public const string Vip = "203.0.113.10";
    public const string RealServer = "192.0.2.131";
    public const string EdgeRouter = "192.0.2.129";
    public const string UpstreamRouter = "198.18.10.2";
    public const string InetRouter = "198.18.20.2";
    public const string Target = "198.51.100.10";
    public const string Director = "203.0.113.2";
    public const int TargetHop = 4;
    public const int ListenPort = 9401;

    public Topology Topology { get; }
    public EgressScenario Scenario { get; }

    private EgressLab(Topology t, EgressScenario s) { Topology = t; Scenario = s; }

    /// <summary>Builds the lab; on failure removes what was built and rethrows.</summary>
    public static EgressLab Build(string prefix, EgressScenario scenario)
    {
        var t = new Topology(prefix);
        try
        {
            t.Host("rs");
            t.Host("edge", router: true);
            t.Host("upstream", router: true);
            t.Host("inet", router: true);
            t.Host("target");
            t.Host("director");
            foreach (var r in new[] { "edge", "upstream", "inet" })
                Netns.Sysctl(t.Ns(r), "net.ipv4.icmp_errors_use_inbound_ifaddr", "1");

            t.Link("rs", "eth0", "192.0.2.131/25", "edge", "cust", "192.0.2.129/25");
            t.DefaultRoute("rs", EdgeRouter);
            t.Exec("rs", "ip", "addr", "add", Vip + "/32", "dev", "lo");

            t.Link("edge", "up", "198.18.10.1/30", "upstream", "down", "198.18.10.2/30");
            t.DefaultRoute("edge", "198.18.10.2");
            t.Link("upstream", "up", "198.18.20.1/30", "inet", "down", "198.18.20.2/30");
            t.DefaultRoute("upstream", "198.18.20.2");
            t.Route("upstream", "192.0.2.128/25", "198.18.10.1");

            t.Link("inet", "tgt", "198.51.100.1/24", "target", "eth0", "198.51.100.10/24");
            t.DefaultRoute("target", "198.51.100.1");
            t.Link("inet", "dir", "203.0.113.1/29", "director", "eth0", "203.0.113.2/29");
            t.DefaultRoute("director", "203.0.113.1");
            t.Route("inet", "192.0.2.128/25", "198.18.20.1");
            t.Route("inet", "198.18.10.0/30", "198.18.20.1");
            t.Route("inet", Vip + "/32", Director);

            switch (scenario)
            {
                case EgressScenario.EdgeRpFilter:
                    Netns.Sysctl(t.Ns("edge"), "net.ipv4.conf.all.rp_filter", "1");
                    Netns.Sysctl(t.Ns("edge"), "net.ipv4.conf.cust.rp_filter", "1");
                    break;
                case EgressScenario.EdgeNftables:
                    Nft(t, "edge", "cust", "192.0.2.128/25");
                    break;
                case EgressScenario.UpstreamNftables:
                    Nft(t, "upstream", "down", "192.0.2.128/25, 198.18.10.0/30");
                    break;
                case EgressScenario.SilentTarget:
                    t.Exec("target", "nft", "add table ip silent; add chain ip silent in { type filter hook input priority 0; policy accept; }; add rule ip silent in meta l4proto udp drop");
                    break;
                case EgressScenario.EdgeForwardNftables:
                    t.Exec("edge", "nft",
                        "add table ip egfwd; add chain ip egfwd f { type filter hook forward priority 0; policy accept; }; " +
                        "add rule ip egfwd f iifname \"cust\" ip saddr != 192.0.2.128/25 drop");
                    break;
            }
            return new EgressLab(t, scenario);
        }
        catch
        {
            t.Dispose();
            throw;
        }
    }

    /// <summary>BCP 38 on a provider's customer-facing interface: drop, on ingress, sources outside the customer's prefixes.</summary>
    private static void Nft(Topology t, string role, string ifName, string prefixes) =>
        t.Exec(role, "nft",
            $"add table ip bcp38; add chain ip bcp38 ingress {{ type filter hook prerouting priority -300; policy accept; }}; " +
            $"add rule ip bcp38 ingress iifname \"{ifName}\" ip saddr != {{ {prefixes} }} drop");

    /// <summary>Expected verdict line for the scenario (what egress-check should print).</summary>
    public static string ExpectedSummary(EgressScenario s) => s switch
    {
        EgressScenario.Open => $"ALLOWED ({TargetHop} hops)",
        EgressScenario.EdgeRpFilter or EgressScenario.EdgeNftables => $"BLOCKED AT HOP 1 ({EdgeRouter})",
        EgressScenario.UpstreamNftables or EgressScenario.EdgeForwardNftables => $"BLOCKED AT HOP 2 ({UpstreamRouter})",
        _ => "INCONCLUSIVE",
    };

    /// <summary>Starts `tunlb egress-listen` in the director namespace, reachable from the real server (token required).</summary>
    public BackgroundProcess StartListener(string[] tunlb, string token)
    {
        var p = Topology.Start("director", "egress-listen", tunlb[0],
            [.. tunlb.Skip(1), "egress-listen", "--vip", Vip, "--listen", $"{Director}:{ListenPort}", "--token", token]);
        if (!p.WaitForOutput("listening on", LabServices.StartTimeoutMs))
            throw new InvalidOperationException($"egress-listen did not start:\n{p.Output}");
        return p;
    }

    /// <summary>Runs `tunlb egress-check` in the real server's namespace.</summary>
    public Sh.Result RunCheck(string[] tunlb, string token, params string[] extra) =>
        Topology.Try("rs", 120_000, [tunlb[0], .. tunlb.Skip(1), "egress-check", "--vip", Vip, "--target", Target,
            "--listener", $"http://{Director}:{ListenPort}", "--token", token, "--max-hops", "8", "--timeout", "2", .. extra]);

    /// <summary>
    /// The seed's manual procedure on this lab: tcpdump on the director (ICMP to the VIP) while the real server runs
    /// `traceroute -s VIP -n TARGET`; plus a plain `traceroute -n TARGET` for comparison with the control series.
    /// </summary>
    public EgressManualResult RunManualProcedure(string workDir)
    {
        Directory.CreateDirectory(workDir);
        var pcap = Path.Combine(workDir, $"manual-{Scenario}.pcap");
        string tr, own;
        using (var cap = Capture.Start(Topology, "director", "eth0", pcap, $"icmp and dst host {Vip}"))
        {
            tr = Topology.Try("rs", 120_000, "traceroute", "-s", Vip, "-n", "-m", "6", "-q", "2", "-w", "1", Target).Stdout;
            Thread.Sleep(500);
            cap.Stop();
            int icmp = cap.Count($"icmp and dst host {Vip}");
            int fromTarget = cap.Count($"icmp[icmptype] == icmp-unreach and src host {Target}");
            // ip.src lists the ICMP's own source first, then the quoted packet's.
            var routers = cap.Fields("icmp.type == 11", "ip.src").Select(f => f[0].Split(',')[0])
                .Where(a => a.Length > 0).Distinct().ToList();
            own = Topology.Try("rs", 120_000, "traceroute", "-n", "-m", "6", "-q", "1", "-w", "1", Target).Stdout;
            return new EgressManualResult(icmp, fromTarget, routers, tr, own);
        }
    }
}
