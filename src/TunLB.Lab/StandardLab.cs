namespace TunLB.Lab;

/// <summary>One real server of the standard lab.</summary>
public sealed record LabRealServer(string Role, string Datacenter, string Address);

/// <summary>
/// The standard lab: a client, an internet router, one director and two datacenters with three real servers.
/// Only documentation and benchmark ranges are used, and nothing is routed out of the machine.
/// <code>
///  client 198.51.100.10 ── inet ──┬── director 203.0.113.2  (VIP 203.0.113.10 routed to it)
///                                 ├── dc1 router ── br0 ── rs1 192.0.2.11, rs2 192.0.2.12
///                                 └── dc2 router ────────── rs3 192.0.2.131
/// </code>
/// </summary>
public sealed class StandardLab
{
    public const string Vip = "203.0.113.10";
    public const string ClientAddress = "198.51.100.10";
    public const string DirectorAddress = "203.0.113.2";

    public static readonly IReadOnlyList<LabRealServer> RealServers =
    [
        new("rs1", "dc1", "192.0.2.11"),
        new("rs2", "dc1", "192.0.2.12"),
        new("rs3", "dc2", "192.0.2.131"),
    ];

    public Topology Topology { get; }

    private StandardLab(Topology t) { Topology = t; }

    /// <summary>Builds the topology. On failure everything created so far is removed and the error rethrown.</summary>
    public static StandardLab Build(string prefix, int dc2Mtu = 1500)
    {
        var t = new Topology(prefix);
        try
        {
            t.Host("client");
            t.Host("inet", router: true);
            t.Host("director", router: true);
            t.Host("dc1", router: true);
            t.Host("dc2", router: true);
            foreach (var rs in RealServers) t.Host(rs.Role);

            t.Link("client", "eth0", "198.51.100.10/24", "inet", "cli", "198.51.100.1/24");
            t.DefaultRoute("client", "198.51.100.1");

            t.Link("director", "eth0", "203.0.113.2/29", "inet", "dir", "203.0.113.1/29");
            t.DefaultRoute("director", "203.0.113.1");
            t.Route("inet", Vip + "/32", DirectorAddress);

            t.Link("dc1", "wan", "198.18.1.2/30", "inet", "dc1", "198.18.1.1/30");
            t.DefaultRoute("dc1", "198.18.1.1");
            t.Route("inet", "192.0.2.0/25", "198.18.1.2");
            t.Bridge("dc1", "br0", "192.0.2.1/25");
            t.Link("rs1", "eth0", "192.0.2.11/25", "dc1", "p1", null);
            t.Link("rs2", "eth0", "192.0.2.12/25", "dc1", "p2", null);
            t.Enslave("dc1", "p1", "br0");
            t.Enslave("dc1", "p2", "br0");
            t.DefaultRoute("rs1", "192.0.2.1");
            t.DefaultRoute("rs2", "192.0.2.1");

            t.Link("dc2", "wan", "198.18.2.2/30", "inet", "dc2", "198.18.2.1/30", dc2Mtu);
            t.DefaultRoute("dc2", "198.18.2.1");
            t.Route("inet", "192.0.2.128/25", "198.18.2.2");
            t.Link("rs3", "eth0", "192.0.2.131/25", "dc2", "lan", "192.0.2.129/25");
            t.DefaultRoute("rs3", "192.0.2.129");
            return new StandardLab(t);
        }
        catch
        {
            t.Dispose();
            throw;
        }
    }

    public static string DirectorConfig(string scheduler = "rr", int persistence = 0) =>
        $$"""
        # TunLB lab director
        [director]
        api = "127.0.0.1:9400"

        [[service]]
        vip = "{{Vip}}"
        port = 80
        protocol = "tcp"
        scheduler = "{{scheduler}}"
        persistence = {{persistence}}
        {{string.Concat(RealServers.Select(r => $"\n[[service.real]]\naddress = \"{r.Address}\"\nweight = 1\n"))}}
        """;

    public static string RealServerConfig() =>
        $"""
        # TunLB lab real server
        [realserver]
        vips = ["{Vip}"]
        directors = ["{DirectorAddress}"]
        """;
}
