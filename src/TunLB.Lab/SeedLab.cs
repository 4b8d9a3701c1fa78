namespace TunLB.Lab;

/// <summary>One datacenter of the seed lab: its router namespace, LAN and how it reaches the internet.</summary>
/// <param name="Filtered">Its provider drops packets with the VIP as source on its transit uplink.</param>
public sealed record SeedDatacenter(string Role, string Name, string Provider, int Index, bool Filtered)
{
    public string LanPrefix => $"198.18.{100 + Index}.0/24";
    public string Gateway => $"198.18.{100 + Index}.1";
}

/// <summary>One real server of the seed lab.</summary>
public sealed record SeedRealServer(string Role, SeedDatacenter Datacenter, string Address);

/// <summary>One director of the seed lab (the addresses of dist/bird/router.conf).</summary>
public sealed record SeedDirector(string Role, string Address)
{
    public string ApiUrl => $"http://{Address}:{SeedLab.ApiPort}";
}

/// <summary>
/// The seed's topology: 3 directors behind an upstream router that runs BIRD (ECMP over the directors' BGP
/// announcements, BFD), 12 real servers in 5 datacenters (3 US, 2 EU), a client side and a target for the egress check.
/// Only documentation and benchmark ranges; each host is its own namespace.
/// <code>
///  client 198.51.100.10 ── cr ─────────────── rt (BIRD: BGP + BFD, merge paths) ── br0 192.0.2.1 ─┬─ d1 192.0.2.2
///                           │ (peering)        ├── us-east    198.18.1.0/30 ── rs1-3  198.18.101.0/24  ├─ d2 192.0.2.3
///                           │                  ├── us-central 198.18.2.0/30 ── rs4-6  198.18.102.0/24  └─ d3 192.0.2.4
///                           │                  ├── us-west    198.18.3.0/30 ── rs7-8  198.18.103.0/24
///                           │                  ├── eu-west    198.18.4.0/30 ── rs9-10 198.18.104.0/24
///                           └────── prov5 ─────┤ (transit, drops VIP-sourced packets out of its uplink)
///                                     └── eu-central 198.18.6.0/30 ── rs11-12 198.18.105.0/24
///                                      target 198.18.200.10 ── rt
/// </code>
/// eu-central's provider filters VIP-sourced packets on its transit uplink, as BCP 38 providers do; it reaches the
/// client network over a peering link that it does not filter, so its real servers still answer our clients, while
/// `tunlb egress-check` toward a host beyond the transit (the target) names the block.
/// </summary>
public sealed class SeedLab
{
    public const string Vip = "203.0.113.10";
    public const string Client = "198.51.100.10";
    public const string Router = "192.0.2.1";
    public const string Target = "198.18.200.10";
    public const int ApiPort = 9400;
    public const int EgressListenPort = 9401;
    public const string ApiToken = "seedlab-token";
    public const int AnnounceTable = 100;

    public static readonly IReadOnlyList<SeedDirector> Directors =
        [new("d1", "192.0.2.2"), new("d2", "192.0.2.3"), new("d3", "192.0.2.4")];

    public static readonly IReadOnlyList<SeedDatacenter> Datacenters =
    [
        new("us-east", "us-east (Ashburn)", "transit-a", 1, false),
        new("us-central", "us-central (Chicago)", "transit-a", 2, false),
        new("us-west", "us-west (San Jose)", "transit-b", 3, false),
        new("eu-west", "eu-west (Amsterdam)", "transit-c", 4, false),
        new("eu-central", "eu-central (Frankfurt)", "prov5 (filters VIP-sourced egress)", 5, true),
    ];

    /// <summary>3 + 3 + 2 + 2 + 2 real servers.</summary>
    public static readonly IReadOnlyList<SeedRealServer> RealServers = BuildReals();

    private static List<SeedRealServer> BuildReals()
    {
        int[] perDc = [3, 3, 2, 2, 2];
        var list = new List<SeedRealServer>();
        for (int d = 0; d < perDc.Length; d++)
            for (int i = 0; i < perDc[d]; i++)
                list.Add(new($"rs{list.Count + 1}", Datacenters[d], $"198.18.{101 + d}.{11 + i}"));
        return list;
    }

    public Topology Topology { get; }

    private SeedLab(Topology t) { Topology = t; }

    /// <summary>Builds the namespaces and links. On failure everything created so far is removed and the error rethrown.</summary>
    public static SeedLab Build(string prefix)
    {
        var t = new Topology(prefix);
        try
        {
            void RouterNs(string role)
            {
                var ns = t.Host(role, router: true);
                Netns.Sysctl(ns, "net.ipv4.icmp_errors_use_inbound_ifaddr", "1");
                // Several egress checks run at once and all answer the one VIP: no per-destination ICMP rate limit.
                Netns.Sysctl(ns, "net.ipv4.icmp_ratelimit", "0");
            }
            t.Host("client");
            RouterNs("cr");
            RouterNs("rt");
            Netns.Sysctl(t.Ns("rt"), "net.ipv4.fib_multipath_hash_policy", "1");
            RouterNs("target");
            foreach (var d in Directors) t.Host(d.Role, router: true);
            foreach (var dc in Datacenters) RouterNs(dc.Role);
            RouterNs("prov5");
            foreach (var rs in RealServers) t.Host(rs.Role);

            t.Link("client", "eth0", Client + "/24", "cr", "lan", "198.51.100.1/24");
            t.DefaultRoute("client", "198.51.100.1");
            t.Link("cr", "up", "198.18.0.2/30", "rt", "cli", "198.18.0.1/30");
            t.DefaultRoute("cr", "198.18.0.1");
            t.Route("rt", "198.51.100.0/24", "198.18.0.2");

            t.Link("target", "eth0", Target + "/24", "rt", "tgt", "198.18.200.1/24");
            t.DefaultRoute("target", "198.18.200.1");

            t.Bridge("rt", "br0", Router + "/24");
            for (int i = 0; i < Directors.Count; i++)
            {
                var d = Directors[i];
                t.Link(d.Role, "eth0", d.Address + "/24", "rt", $"d{i + 1}", null);
                t.Enslave("rt", $"d{i + 1}", "br0");
                t.DefaultRoute(d.Role, Router);
            }

            foreach (var dc in Datacenters)
            {
                if (dc.Filtered)
                {
                    // dc ── prov5 ── rt (transit); prov5 ── cr (peering toward the client network).
                    t.Link(dc.Role, "wan", "198.18.6.2/30", "prov5", "cust", "198.18.6.1/30");
                    t.DefaultRoute(dc.Role, "198.18.6.1");
                    t.Link("prov5", "transit", $"198.18.{dc.Index}.2/30", "rt", "prov5", $"198.18.{dc.Index}.1/30");
                    t.DefaultRoute("prov5", $"198.18.{dc.Index}.1");
                    t.Route("prov5", dc.LanPrefix, "198.18.6.2");
                    t.Route("rt", dc.LanPrefix, $"198.18.{dc.Index}.2");
                    t.Route("rt", "198.18.6.0/30", $"198.18.{dc.Index}.2");
                    t.Link("prov5", "peer", "198.18.7.1/30", "cr", "peer", "198.18.7.2/30");
                    t.Route("prov5", "198.51.100.0/24", "198.18.7.2");
                    t.Exec("prov5", "nft",
                        "add table ip seedlab_bcp38; " +
                        "add chain ip seedlab_bcp38 uplink { type filter hook forward priority 0; policy accept; }; " +
                        $"add rule ip seedlab_bcp38 uplink oifname \"transit\" ip saddr {Vip} counter drop");
                }
                else
                {
                    t.Link(dc.Role, "wan", $"198.18.{dc.Index}.2/30", "rt", dc.Role[..Math.Min(dc.Role.Length, 15)], $"198.18.{dc.Index}.1/30");
                    t.DefaultRoute(dc.Role, $"198.18.{dc.Index}.1");
                    t.Route("rt", dc.LanPrefix, $"198.18.{dc.Index}.2");
                }
                t.Bridge(dc.Role, "br0", dc.Gateway + "/24");
                int port = 0;
                foreach (var rs in RealServers.Where(r => r.Datacenter == dc))
                {
                    t.Link(rs.Role, "eth0", rs.Address + "/24", dc.Role, $"p{++port}", null);
                    t.Enslave(dc.Role, $"p{port}", "br0");
                    t.DefaultRoute(rs.Role, dc.Gateway);
                }
            }
            return new SeedLab(t);
        }
        catch
        {
            t.Dispose();
            throw;
        }
    }

    /// <summary>The director config, the same on all three but for the API address: mh (with ports) so that directors
    /// agree on the real server of a flow they never saw, announce = true, a small connection table (a killed director's
    /// memory is freed before its TUN device goes, so a lab-sized table makes it leave the route sooner), a TCP check of each real's own address (its
    /// answers through the tunnel would carry the VIP as source, which eu-central's provider drops toward the directors).</summary>
    public static string DirectorConfig(SeedDirector d) =>
        $$"""
        # TunLB seed lab director {{d.Role}}
        [director]
        api = "{{d.Address}}:{{ApiPort}}"
        api_token = "{{ApiToken}}"
        io = "tun"
        conn_max = 65536
        announce = true
        announce_table = {{AnnounceTable}}
        withdraw_grace = 1

        [[service]]
        vip = "{{Vip}}"
        port = 80
        protocol = "tcp"
        scheduler = "mh"
        scheduler_flags = ["mh-port"]

        [service.check]
        type = "tcp"
        via = "direct"
        interval = 1.0
        timeout = 0.5
        rise = 1
        fall = 2
        {{string.Concat(RealServers.Select(r => $"\n[[service.real]]\naddress = \"{r.Address}\"\nweight = 1\n"))}}
        """;

    public static string RealServerConfig() =>
        $"""
        # TunLB seed lab real server
        [realserver]
        vips = ["{Vip}"]
        directors = [{string.Join(", ", Directors.Select(d => $"\"{d.Address}\""))}]
        """;

    /// <summary>dist/bird/director.conf for one director: the shipped file with its example address (192.0.2.2, the
    /// first director) replaced by this director's in `router id` and `local`.</summary>
    public static string DirectorBirdConfig(SeedDirector d)
    {
        var text = BirdConfigs.Director;
        foreach (var line in new[] { "router id 192.0.2.2;", "local 192.0.2.2 as 65010;" })
        {
            if (!text.Contains(line, StringComparison.Ordinal))
                throw new InvalidOperationException($"dist/bird/director.conf has no `{line}` line any more; update SeedLab");
            text = text.Replace(line, line.Replace("192.0.2.2", d.Address, StringComparison.Ordinal), StringComparison.Ordinal);
        }
        return text;
    }
}
