using TunLB.Lab;

namespace TunLB.LabBench;

/// <summary>
/// A benchmark topology, <see cref="Flat"/> or <see cref="Routed"/>. In both, every namespace hop is shared by all the
/// variants being compared and replies bypass the director. Only documentation and benchmark ranges are used; nothing
/// is routed out of the machine.
/// </summary>
public sealed partial class BenchTopology : IDisposable
{
    public const string Flat = "flat", Routed = "routed";
    public static readonly string[] Kinds = [Flat, Routed];
    public const string Vip = "203.0.113.10";
    public const string ClientAddress = "198.51.100.10";
    /// <summary>The director's address toward inet (the proxies listen here).</summary>
    public const string DirectorAddress = "203.0.113.2";
    public static string RsRole(int i) => $"rs{i + 1}";

    public Topology Topology { get; }
    public string Kind { get; }
    public string[] RealServers { get; }
    /// <summary>Real server i's address as the client reaches it without a load balancer.</summary>
    public string[] DirectAddresses { get; }
    /// <summary>Outer source addresses of the director's tunnel packets (the real servers' <c>directors</c>).</summary>
    public string[] TunnelSources { get; }
    /// <summary>The veth devices that receive what the director sends toward the real servers: where RPS moves that receive work.</summary>
    public (string Role, string Dev)[] NextHops { get; }
    /// <summary>Routes (namespace, gateway) that carry the VIP to rs1 with plain kernel forwarding, first hop first.</summary>
    public (string Role, string Via)[] KernelPathToRs1 { get; }
    /// <summary>One line for the report.</summary>
    public string Description { get; }

    private BenchTopology(Topology t, string kind, string[] reals, string[] direct, string[] sources,
        (string, string)[] nextHops, (string, string)[] kernelPath, string description)
    {
        Topology = t; Kind = kind; RealServers = reals; DirectAddresses = direct; TunnelSources = sources;
        NextHops = nextHops; KernelPathToRs1 = kernelPath; Description = description;
    }

    /// <summary>Builds the namespaces; on failure removes what was created and rethrows.</summary>
    public static BenchTopology Build(string prefix, string kind)
    {
        var t = new Topology(prefix);
        try { return kind == Routed ? BuildRouted(t) : BuildFlat(t); }
        catch
        {
            t.Dispose();
            throw;
        }
    }

    public const string FlatDescription =
        "flat: `client 198.51.100.10 — inet — director 203.0.113.2`; the director has a bridge `lan 192.0.2.1/24` to " +
        "`rs1 192.0.2.11` and `rs2 192.0.2.12`, and each real server has its own link to `inet` (198.18.N.2/30) for replies.";

    /// <summary>
    /// The flat topology: the standard lab's shape with the routers folded together.
    /// <code>
    ///  client 198.51.100.10 ── inet ── director 203.0.113.2 (VIP 203.0.113.10 routed to it; proxies listen here)
    ///                           │         └── lan 192.0.2.1/24 (bridge) ── rs1 192.0.2.11, rs2 192.0.2.12
    ///                           └── 198.18.N.0/30 ── rsN (default route: replies go straight to inet)
    /// </code>
    /// </summary>
    private static BenchTopology BuildFlat(Topology t)
    {
        string[] reals = ["192.0.2.11", "192.0.2.12"];
        t.Host("client");
        t.Host("inet", router: true);
        t.Host("director", router: true);
        for (int i = 0; i < reals.Length; i++) t.Host(RsRole(i));
        FrontHalf(t);
        t.Bridge("director", "lan", "192.0.2.1/24");
        for (int i = 0; i < reals.Length; i++)
        {
            string rs = RsRole(i);
            t.Link(rs, "eth0", reals[i] + "/24", "director", "p" + (i + 1), null);
            t.Enslave("director", "p" + (i + 1), "lan");
            t.Link(rs, "wan", $"198.18.{i + 1}.2/30", "inet", rs, $"198.18.{i + 1}.1/30");
            t.DefaultRoute(rs, $"198.18.{i + 1}.1");
        }
        return new BenchTopology(t, Flat, reals, ["198.18.1.2", "198.18.2.2"], ["192.0.2.1"],
            [.. Enumerable.Range(0, reals.Length).Select(i => (RsRole(i), "eth0"))], [("director", reals[0])], FlatDescription);
    }

    /// <summary>client ── inet ── director, the VIP routed to the director: the same in both topologies.</summary>
    private static void FrontHalf(Topology t)
    {
        t.Link("client", "eth0", ClientAddress + "/24", "inet", "cli", "198.51.100.1/24");
        t.DefaultRoute("client", "198.51.100.1");
        t.Link("director", "eth0", DirectorAddress + "/29", "inet", "dir", "203.0.113.1/29");
        t.DefaultRoute("director", "203.0.113.1");
        t.Route("inet", Vip + "/32", DirectorAddress);
    }

    public void Dispose() => Topology.Dispose();

    /// <param name="decap">[realserver] decap: "agent" (the default, written as no line) or "xdp".</param>
    public string RealServerConfig(string decap = "agent") =>
        $"""
        # TunLB benchmark real server
        [realserver]
        vips = ["{Vip}"]
        directors = [{string.Join(", ", TunnelSources.Select(s => $"\"{s}\""))}]
        {(decap == "agent" ? "" : $"decap = \"{decap}\"")}
        """;

    /// <summary>Director config: one service on the VIP with <paramref name="reals"/> (default: all real servers), rr.</summary>
    /// <param name="io">The io backend, written as given (tun, afpacket, xdp, auto, ...).</param>
    /// <param name="workers">Data-path workers; 1 writes no workers line (the default).</param>
    public string DirectorConfig(string protocol, int port, int connMax = 1_000_000, string scheduler = "rr", string io = "tun",
        int workers = 1, IEnumerable<string>? reals = null) =>
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
        {{string.Concat((reals ?? RealServers).Select(r => $"\n[[service.real]]\naddress = \"{r}\"\nweight = 1\n"))}}
        """;
}
