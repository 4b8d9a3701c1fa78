using TunLB.Lab;

namespace TunLB.LabBench;

/// <summary>
/// The benchmark topology: the standard lab's shape with the routers folded together so that every
/// namespace hop is shared by all the variants being compared, and replies bypass the director.
/// <code>
///  client 198.51.100.10 ── inet ── director 203.0.113.2 (VIP 203.0.113.10 routed to it; proxies listen here)
///                           │         └── lan 192.0.2.1/24 (bridge) ── rs1 192.0.2.11, rs2 192.0.2.12
///                           └── 198.18.N.0/30 ── rsN (default route: replies go straight to inet)
/// </code>
/// The director reaches the real servers over its own LAN (IPIP from 192.0.2.1, or proxy connections),
/// and the real servers answer clients through inet, never through the director. Only documentation and
/// benchmark ranges are used; nothing is routed out of the machine.
/// </summary>
public sealed class BenchTopology : IDisposable
{
    public const string Vip = "203.0.113.10";
    public const string ClientAddress = "198.51.100.10";
    public const string DirectorAddress = "203.0.113.2";
    public const string DirectorLanAddress = "192.0.2.1";
    public static readonly string[] RealServers = ["192.0.2.11", "192.0.2.12"];
    public static string RsRole(int i) => $"rs{i + 1}";
    /// <summary>Real server i's address on its link to inet (what a client reaches without a load balancer).</summary>
    public static string WanAddress(int i) => $"198.18.{i + 1}.2";

    public Topology Topology { get; }

    private BenchTopology(Topology t) { Topology = t; }

    /// <summary>Builds the namespaces; on failure removes what was created and rethrows.</summary>
    public static BenchTopology Build(string prefix)
    {
        var t = new Topology(prefix);
        try
        {
            t.Host("client");
            t.Host("inet", router: true);
            t.Host("director", router: true);
            for (int i = 0; i < RealServers.Length; i++) t.Host(RsRole(i));

            t.Link("client", "eth0", ClientAddress + "/24", "inet", "cli", "198.51.100.1/24");
            t.DefaultRoute("client", "198.51.100.1");
            t.Link("director", "eth0", DirectorAddress + "/29", "inet", "dir", "203.0.113.1/29");
            t.DefaultRoute("director", "203.0.113.1");
            t.Route("inet", Vip + "/32", DirectorAddress);

            t.Bridge("director", "lan", DirectorLanAddress + "/24");
            for (int i = 0; i < RealServers.Length; i++)
            {
                string rs = RsRole(i);
                t.Link(rs, "eth0", RealServers[i] + "/24", "director", "p" + (i + 1), null);
                t.Enslave("director", "p" + (i + 1), "lan");
                t.Link(rs, "wan", WanAddress(i) + "/30", "inet", rs, $"198.18.{i + 1}.1/30");
                t.DefaultRoute(rs, $"198.18.{i + 1}.1");
            }
            return new BenchTopology(t);
        }
        catch
        {
            t.Dispose();
            throw;
        }
    }

    public void Dispose() => Topology.Dispose();

    public static string RealServerConfig() =>
        $"""
        # TunLB benchmark real server
        [realserver]
        vips = ["{Vip}"]
        directors = ["{DirectorLanAddress}"]
        """;

    /// <summary>Director config: one service on the VIP with both real servers, rr; <paramref name="io"/> = "tun" | "afpacket".</summary>
    /// <param name="workers">Data-path workers; 1 writes no workers line (the default).</param>
    public static string DirectorConfig(string protocol, int port, int connMax = 1_000_000, string scheduler = "rr", string io = "tun", int workers = 1) =>
        $$"""
        # TunLB benchmark director
        [director]
        conn_max = {{connMax}}{{(workers == 1 ? "" : $"\nworkers = {workers}")}}
        io = "{{io}}"

        [[service]]
        vip = "{{Vip}}"
        port = {{port}}
        protocol = "{{protocol}}"
        scheduler = "{{scheduler}}"
        {{string.Concat(RealServers.Select(r => $"\n[[service.real]]\naddress = \"{r}\"\nweight = 1\n"))}}
        """;
}
