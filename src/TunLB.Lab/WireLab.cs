namespace TunLB.Lab;

/// <summary>One dual-stack real server of the wire lab.</summary>
public sealed record WireLabRealServer(string Role, string Datacenter, string V4, string V6);

/// <summary>
/// A dual-stack lab for the wire formats (IPv6, mixed families, GUE, ICMP for flows, fragments). Independent of
/// <see cref="StandardLab"/>: every link has an IPv4 and an IPv6 address, routers forward both families, and the
/// VIPs of both families are routed to the director. Documentation / benchmark ranges only; nothing leaves the machine.
/// <code>
///  client 198.51.100.10 2001:db8:c::10 ── inet ──┬── director 203.0.113.2 2001:db8:d::2 (VIPs routed to it)
///                                                ├── dc1 ── br0 ── rs1 192.0.2.11 2001:db8:1::11, rs2 192.0.2.12 2001:db8:1::12
///                                                └── dc2 ───────── rs3 192.0.2.131 2001:db8:2::13
/// </code>
/// </summary>
public sealed class WireLab
{
    public const string Vip4 = "203.0.113.10";
    public const string Vip6 = "2001:db8:10::10";
    /// <summary>VIPs of the small-MTU services (frag-needed / Packet Too Big), kept apart so the client's path MTU cache
    /// for the main VIPs is never touched.</summary>
    public const string MtuVip4 = "203.0.113.20";
    public const string MtuVip6 = "2001:db8:10::20";
    public const string Client4 = "198.51.100.10";
    public const string Client6 = "2001:db8:c::10";
    public const string Router4 = "198.51.100.1";
    public const string Router6 = "2001:db8:c::1";
    public const string Director4 = "203.0.113.2";
    public const string Director6 = "2001:db8:d::2";
    public const int GuePort = 6080;

    // Services of the director config (see DirectorConfig).
    public const int HttpPort = 80;           // tcp VIP4 and VIP6 -> rs1..rs3 (IPIP / 6in6)
    public const int UdpPort = 40404;         // udp VIP4 and VIP6 -> rs1..rs3 (not 5353: tshark would parse the test data as mDNS)
    public const int FourInSixPort = 8081;    // tcp VIP4 -> rs1 over IPv6
    public const int SixInFourPort = 8082;    // tcp VIP6 -> rs2 over IPv4
    public const int GuePortService = 8080;   // tcp VIP4 -> rs3, encap gue
    public const int IpipPortService = 8090;  // tcp VIP4 -> rs3, encap ipip (negative control for GUE)
    public const int MtuPort = 9000;          // udp MtuVip4 / MtuVip6 -> rs1 with mtu 1300
    public const int UploadPort6 = 8083;      // tcp VIP6 -> rs3 over IPv6 (path MTU learning)
    public const int SmallMtu = 1300;

    public static readonly IReadOnlyList<WireLabRealServer> RealServers =
    [
        new("rs1", "dc1", "192.0.2.11", "2001:db8:1::11"),
        new("rs2", "dc1", "192.0.2.12", "2001:db8:1::12"),
        new("rs3", "dc2", "192.0.2.131", "2001:db8:2::13"),
    ];

    public Topology Topology { get; }

    private WireLab(Topology t) { Topology = t; }

    /// <summary>Builds the topology. On failure everything created so far is removed and the error rethrown.</summary>
    public static WireLab Build(string prefix)
    {
        var t = new Topology(prefix);
        try
        {
            void Host(string role, bool router = false)
            {
                var ns = t.Host(role, router);
                // Addresses are usable at once (no duplicate address detection on these private links).
                Netns.Sysctl(ns, "net.ipv6.conf.all.accept_dad", "0");
                Netns.Sysctl(ns, "net.ipv6.conf.default.accept_dad", "0");
                Netns.Sysctl(ns, "net.ipv6.conf.default.disable_ipv6", "0");
                if (router) Netns.Sysctl(ns, "net.ipv6.conf.all.forwarding", "1");
            }
            void Addr6(string role, string dev, string cidr) => Sh.Ok("ip", "-n", t.Ns(role), "-6", "addr", "add", cidr, "dev", dev, "nodad");
            void Route6(string role, string prefix6, string via) => Sh.Ok("ip", "-n", t.Ns(role), "-6", "route", "add", prefix6, "via", via);

            Host("client");
            Host("inet", router: true);
            Host("director", router: true);
            Host("dc1", router: true);
            Host("dc2", router: true);
            foreach (var rs in RealServers) Host(rs.Role);

            t.Link("client", "eth0", Client4 + "/24", "inet", "cli", Router4 + "/24");
            Addr6("client", "eth0", Client6 + "/64"); Addr6("inet", "cli", Router6 + "/64");
            t.DefaultRoute("client", Router4);
            Route6("client", "default", Router6);

            t.Link("director", "eth0", Director4 + "/29", "inet", "dir", "203.0.113.1/29");
            Addr6("director", "eth0", Director6 + "/64"); Addr6("inet", "dir", "2001:db8:d::1/64");
            t.DefaultRoute("director", "203.0.113.1");
            Route6("director", "default", "2001:db8:d::1");
            t.Route("inet", Vip4 + "/32", Director4);
            t.Route("inet", MtuVip4 + "/32", Director4);
            Route6("inet", Vip6 + "/128", Director6);
            Route6("inet", MtuVip6 + "/128", Director6);

            t.Link("dc1", "wan", "198.18.1.2/30", "inet", "dc1", "198.18.1.1/30");
            Addr6("dc1", "wan", "2001:db8:f1::2/64"); Addr6("inet", "dc1", "2001:db8:f1::1/64");
            t.DefaultRoute("dc1", "198.18.1.1");
            Route6("dc1", "default", "2001:db8:f1::1");
            t.Route("inet", "192.0.2.0/25", "198.18.1.2");
            Route6("inet", "2001:db8:1::/64", "2001:db8:f1::2");
            t.Bridge("dc1", "br0", "192.0.2.1/25");
            Addr6("dc1", "br0", "2001:db8:1::1/64");
            foreach (var (rs, port) in new[] { (RealServers[0], "p1"), (RealServers[1], "p2") })
            {
                t.Link(rs.Role, "eth0", rs.V4 + "/25", "dc1", port, null);
                Addr6(rs.Role, "eth0", rs.V6 + "/64");
                t.Enslave("dc1", port, "br0");
                t.DefaultRoute(rs.Role, "192.0.2.1");
                Route6(rs.Role, "default", "2001:db8:1::1");
            }

            t.Link("dc2", "wan", "198.18.2.2/30", "inet", "dc2", "198.18.2.1/30");
            Addr6("dc2", "wan", "2001:db8:f2::2/64"); Addr6("inet", "dc2", "2001:db8:f2::1/64");
            t.DefaultRoute("dc2", "198.18.2.1");
            Route6("dc2", "default", "2001:db8:f2::1");
            t.Route("inet", "192.0.2.128/25", "198.18.2.2");
            Route6("inet", "2001:db8:2::/64", "2001:db8:f2::2");
            var rs3 = RealServers[2];
            t.Link(rs3.Role, "eth0", rs3.V4 + "/25", "dc2", "lan", "192.0.2.129/25");
            Addr6(rs3.Role, "eth0", rs3.V6 + "/64"); Addr6("dc2", "lan", "2001:db8:2::1/64");
            t.DefaultRoute(rs3.Role, "192.0.2.129");
            Route6(rs3.Role, "default", "2001:db8:2::1");
            return new WireLab(t);
        }
        catch
        {
            t.Dispose();
            throw;
        }
    }

    private static string Real(string address, string extra = "") => $"\n[[service.real]]\naddress = \"{address}\"\n{extra}";

    /// <summary>The director config of the lab: one service per wire case (see the port constants).</summary>
    public static string DirectorConfig()
    {
        var rs1 = RealServers[0]; var rs2 = RealServers[1]; var rs3 = RealServers[2];
        string Svc(string vip, int port, string proto, string reals) =>
            $"\n[[service]]\nvip = \"{vip}\"\nport = {port}\nprotocol = \"{proto}\"\nscheduler = \"rr\"\n{reals}";
        return "# TunLB wire lab director\n[director]\napi = \"127.0.0.1:9400\"\n" +
            Svc(Vip6, HttpPort, "tcp", string.Concat(RealServers.Select(r => Real(r.V6)))) +
            Svc(Vip4, HttpPort, "tcp", string.Concat(RealServers.Select(r => Real(r.V4)))) +
            Svc(Vip4, UdpPort, "udp", string.Concat(RealServers.Select(r => Real(r.V4)))) +
            Svc(Vip6, UdpPort, "udp", string.Concat(RealServers.Select(r => Real(r.V6)))) +
            Svc(Vip6, UploadPort6, "tcp", Real(rs3.V6)) +
            Svc(Vip4, FourInSixPort, "tcp", Real(rs1.V6)) +
            Svc(Vip6, SixInFourPort, "tcp", Real(rs2.V4)) +
            Svc(Vip4, GuePortService, "tcp", Real(rs3.V4, $"encap = \"gue\"\ngue_port = {GuePort}\n")) +
            Svc(Vip4, IpipPortService, "tcp", Real(rs3.V4, "encap = \"ipip\"\n")) +
            Svc(MtuVip4, MtuPort, "udp", Real(rs1.V4, $"mtu = {SmallMtu}\n")) +
            Svc(MtuVip6, MtuPort, "udp", Real(rs1.V6, $"mtu = {SmallMtu}\n"));
    }

    public static string RealServerConfig() =>
        $"""
        # TunLB wire lab real server
        [realserver]
        vips = ["{Vip4}", "{Vip6}"]
        directors = ["{Director4}", "{Director6}"]
        gue = true
        gue_port = {GuePort}
        """;

    /// <summary>
    /// One process per real server serving every lab port: HTTP on each (VIP, port) answering "ROLE ADDR PORT" for /
    /// a 2 MB body for /blob and "ROLE BYTES" for a POST (an upload sink), and UDP on both VIPs printing "udp LOCALPORT SIZE FIRST16HEX PEERADDR PEERPORT" for
    /// each datagram received (whole: the kernel reassembles fragments first).
    /// </summary>
    public const string ServerScript = """
        import socket, socketserver, sys, threading, http.server
        name = sys.argv[1]
        BLOB = bytes((i * 131 + 7) & 0xFF for i in range(2 * 1024 * 1024))
        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = 'HTTP/1.0'
            def do_GET(self):
                local = self.connection.getsockname()
                body = BLOB if self.path == '/blob' else f'{name} {local[0]} {local[1]}\n'.encode()
                self.send_response(200); self.send_header('Content-Length', str(len(body))); self.end_headers()
                try: self.wfile.write(body)
                except OSError: pass
            def do_POST(self):
                n = int(self.headers.get('Content-Length', 0)); got = 0
                while got < n:
                    b = self.rfile.read(min(65536, n - got))
                    if not b: break
                    got += len(b)
                body = f'{name} {got}\n'.encode()
                self.send_response(200); self.send_header('Content-Length', str(len(body))); self.end_headers(); self.wfile.write(body)
            def log_message(self, *a): pass
        class S4(socketserver.ThreadingMixIn, socketserver.TCPServer):
            address_family = socket.AF_INET; allow_reuse_address = True; daemon_threads = True
        class S6(S4):
            address_family = socket.AF_INET6
        def udp(addr, port):
            s = socket.socket(socket.AF_INET6 if ':' in addr else socket.AF_INET, socket.SOCK_DGRAM)
            s.bind((addr, port))
            while True:
                d, a = s.recvfrom(65535)
                print(f'udp {port} {len(d)} {d[:16].hex()} {a[0]} {a[1]}', flush=True)
        for spec in sys.argv[2:]:
            kind, addr, port = spec.rsplit(',', 2)
            port = int(port)
            if kind == 'udp':
                threading.Thread(target=udp, args=(addr, port), daemon=True).start()
            else:
                srv = (S6 if ':' in addr else S4)((addr, port), H)
                threading.Thread(target=srv.serve_forever, daemon=True).start()
        print('Serving HTTP', flush=True)
        threading.Event().wait()
        """;

    /// <summary>The (kind, address, port) specs every real server's <see cref="ServerScript"/> binds.</summary>
    public static IReadOnlyList<string> ServerSpecs { get; } =
    [
        $"tcp,{Vip4},{HttpPort}", $"tcp,{Vip6},{HttpPort}", $"tcp,{Vip4},{FourInSixPort}", $"tcp,{Vip6},{SixInFourPort}",
        $"tcp,{Vip4},{GuePortService}", $"tcp,{Vip4},{IpipPortService}", $"udp,{Vip4},{UdpPort}", $"udp,{Vip6},{UdpPort}",
        $"tcp,{Vip6},{UploadPort6}",
    ];
}

/// <summary>Starts the agents, the lab servers and the director of a <see cref="WireLab"/>.</summary>
public sealed class WireLabServices
{
    private readonly WireLab _lab;
    private readonly string[] _tunlb;
    public string WorkDir { get; }
    public BackgroundProcess? Director { get; private set; }
    public Dictionary<string, BackgroundProcess> Agents { get; } = new();
    public Dictionary<string, BackgroundProcess> Servers { get; } = new();

    public WireLabServices(WireLab lab, string[] tunlb, string workDir)
    {
        _lab = lab; _tunlb = tunlb; WorkDir = workDir;
        Directory.CreateDirectory(workDir);
    }

    private BackgroundProcess StartTunlb(string role, string label, params string[] args) =>
        _lab.Topology.Start(role, label, _tunlb[0], [.. _tunlb.Skip(1), .. args]);

    /// <param name="directorConfig">The director's config; default <see cref="WireLab.DirectorConfig"/>.</param>
    /// <param name="realServerConfig">Every agent's config; default <see cref="WireLab.RealServerConfig"/>.</param>
    public void StartAll(string? directorConfig = null, string? realServerConfig = null)
    {
        var rsConf = Path.Combine(WorkDir, "realserver.toml");
        File.WriteAllText(rsConf, realServerConfig ?? WireLab.RealServerConfig());
        var script = Path.Combine(WorkDir, "wire_serve.py");
        File.WriteAllText(script, WireLab.ServerScript);
        // Start every agent first, then wait: the processes start in parallel on the shared cores.
        foreach (var rs in WireLab.RealServers)
            Agents[rs.Role] = StartTunlb(rs.Role, $"agent-{rs.Role}", "realserver", "--config", rsConf);
        var dirConf = Path.Combine(WorkDir, "director.toml");
        File.WriteAllText(dirConf, directorConfig ?? WireLab.DirectorConfig());
        Director = StartTunlb("director", "director", "director", "--config", dirConf);
        foreach (var (role, agent) in Agents)
            if (!agent.WaitForOutput(LabServices.AgentReady, LabServices.StartTimeoutMs))
                throw new InvalidOperationException($"real-server agent on {role} did not start:\n{agent.Output}");
        foreach (var rs in WireLab.RealServers)
            Servers[rs.Role] = _lab.Topology.Start(rs.Role, $"serve-{rs.Role}", "/usr/bin/python3", ["-u", script, rs.Role, .. WireLab.ServerSpecs]);
        foreach (var (role, web) in Servers)
            if (!web.WaitForOutput("Serving HTTP", 20_000))
                throw new InvalidOperationException($"lab servers on {role} did not start:\n{web.Output}");
        if (!Director.WaitForOutput(LabServices.DirectorReady, LabServices.StartTimeoutMs))
            throw new InvalidOperationException($"director did not start:\n{Director.Output}");
    }
}
