using TunLB.Lab;

namespace TunLB.LabBench;

public sealed partial class BenchTopology
{
    public const string RoutedDescription =
        "routed: `client 198.51.100.10 — inet — director 203.0.113.2 — core — dc1 / dc2`; the director reaches `core` over " +
        "198.18.0.0/30, core routes 192.0.2.0/26 to `dc1` (a bridge to `rs1 192.0.2.11`, `rs2 192.0.2.12`) and 192.0.2.128/26 " +
        "to `dc2` (`rs3 192.0.2.139`), so every real server is two router hops behind the director. The real servers' default " +
        "route is their dc router, whose default route is its own uplink to `inet`: replies go rs → dc → inet → client. " +
        "`inet` routes 192.0.2.0/26 and 192.0.2.128/26 to the dc uplinks, which is the direct path (no load balancer) to a real server.";

    /// <summary>
    /// The routed topology: router hops after the director, two data centres, replies through the internet router.
    /// <code>
    ///  client 198.51.100.10 ── inet ── director 203.0.113.2 ── 198.18.0.0/30 ── core
    ///                           │  │                                            ├── 198.18.1.0/30 ── dc1 ── lan 192.0.2.1/26 (bridge) ── rs1 .11, rs2 .12
    ///                           │  └────────────── 198.18.11.0/30 (uplink) ──────┼──────────────── dc1
    ///                           │                                               └── 198.18.2.0/30 ── dc2 ── 192.0.2.129/26 ── rs3 192.0.2.139
    ///                           └───────────────── 198.18.12.0/30 (uplink) ──────────────────────── dc2
    /// </code>
    /// </summary>
    private static BenchTopology BuildRouted(Topology t)
    {
        string[] reals = ["192.0.2.11", "192.0.2.12", "192.0.2.139"];
        t.Host("client");
        t.Host("inet", router: true);
        t.Host("director", router: true);
        t.Host("core", router: true);
        t.Host("dc1", router: true);
        t.Host("dc2", router: true);
        for (int i = 0; i < reals.Length; i++) t.Host(RsRole(i));
        FrontHalf(t);

        t.Link("director", "eth1", "198.18.0.1/30", "core", "dir", "198.18.0.2/30");
        t.Route("director", "192.0.2.0/24", "198.18.0.2");
        t.Link("core", "dc1", "198.18.1.1/30", "dc1", "core", "198.18.1.2/30");
        t.Link("core", "dc2", "198.18.2.1/30", "dc2", "core", "198.18.2.2/30");
        t.DefaultRoute("core", "198.18.0.1");
        t.Route("core", "192.0.2.0/26", "198.18.1.2");
        t.Route("core", "192.0.2.128/26", "198.18.2.2");

        // Uplinks: the dc routers' default route is inet, so replies skip the director; the director's own
        // address behind core (proxy connections, health checks) is reached back through core.
        t.Link("dc1", "inet", "198.18.11.2/30", "inet", "dc1", "198.18.11.1/30");
        t.Link("dc2", "inet", "198.18.12.2/30", "inet", "dc2", "198.18.12.1/30");
        t.DefaultRoute("dc1", "198.18.11.1");
        t.DefaultRoute("dc2", "198.18.12.1");
        t.Route("dc1", "198.18.0.0/30", "198.18.1.1");
        t.Route("dc2", "198.18.0.0/30", "198.18.2.1");
        t.Route("inet", "192.0.2.0/26", "198.18.11.2");
        t.Route("inet", "192.0.2.128/26", "198.18.12.2");

        t.Bridge("dc1", "lan", "192.0.2.1/26");
        for (int i = 0; i < 2; i++)
        {
            t.Link(RsRole(i), "eth0", reals[i] + "/26", "dc1", "p" + (i + 1), null);
            t.Enslave("dc1", "p" + (i + 1), "lan");
            t.DefaultRoute(RsRole(i), "192.0.2.1");
        }
        t.Link(RsRole(2), "eth0", reals[2] + "/26", "dc2", "lan", "192.0.2.129/26");
        t.DefaultRoute(RsRole(2), "192.0.2.129");

        return new BenchTopology(t, Routed, reals, reals, ["198.18.0.1", DirectorAddress], [("core", "dir")],
            [("director", "198.18.0.2"), ("core", "198.18.1.2"), ("dc1", reals[0])], RoutedDescription);
    }
}
