using System.Security.Cryptography;

namespace TunLB.Lab;

/// <summary>
/// Starts the seed lab's processes: BIRD on the router (dist/bird/router.conf) and beside each director
/// (dist/bird/director.conf with that director's address), `tunlb director` (announce = true) on each director,
/// `tunlb realserver` and an HTTP server on each real server, and `tunlb egress-listen` on the router.
/// </summary>
public sealed class SeedServices
{
    /// <summary>Size of /blob on every real server (the download of the demo).</summary>
    public const int BlobSize = 400 * 1024;

    private readonly SeedLab _lab;
    private readonly LabLauncher _launcher;
    private readonly string[] _tunlb;
    public string WorkDir { get; }
    public string BlobSha256 { get; }
    public Dictionary<string, ILabProcess> Directors { get; } = new();
    public Dictionary<string, ILabProcess> Birds { get; } = new();
    public Dictionary<string, ILabProcess> Agents { get; } = new();
    public Dictionary<string, ILabProcess> WebServers { get; } = new();
    public ILabProcess? EgressListener { get; private set; }

    /// <param name="tunlb">How to run the tunlb CLI, e.g. ["/path/tunlb"] or ["dotnet", "/path/tunlb.dll"].</param>
    public SeedServices(SeedLab lab, LabLauncher launcher, string[] tunlb, string workDir)
    {
        _lab = lab; _launcher = launcher; _tunlb = tunlb; WorkDir = workDir;
        Directory.CreateDirectory(workDir);
        var blob = new byte[BlobSize];
        new Random(13).NextBytes(blob);
        BlobSha256 = Convert.ToHexStringLower(SHA256.HashData(blob));
        foreach (var rs in SeedLab.RealServers)
        {
            var root = Path.Combine(workDir, "www-" + rs.Role);
            Directory.CreateDirectory(root);
            File.WriteAllText(Path.Combine(root, "index.html"), rs.Role + "\n");
            File.WriteAllBytes(Path.Combine(root, "blob"), blob);
        }
    }

    /// <summary>`python3 -m http.server` on port 80 of every address, with a listen backlog of 256 instead of its 5: 150
    /// connections arriving at once overflowed 5 on a loaded machine, and SYNs retried for seconds.</summary>
    private const string HttpServer =
        "import functools, http.server as h, sys\n" +
        "h.ThreadingHTTPServer.request_queue_size = 256\n" +
        "s = h.ThreadingHTTPServer(('0.0.0.0', 80), functools.partial(h.SimpleHTTPRequestHandler, directory=sys.argv[1]))\n" +
        "print('Serving HTTP on 0.0.0.0 port 80', flush=True)\n" +
        "s.serve_forever()\n";

    public string BirdSocket(string role) => Path.Combine(WorkDir, $"bird-{role}.ctl");

    private ILabProcess Tunlb(string role, string label, params string[] args) => _launcher.Start(role, label, [.. _tunlb, .. args]);

    private ILabProcess Bird(string role, string config)
    {
        var conf = Path.Combine(WorkDir, $"bird-{role}.conf");
        File.WriteAllText(conf, config);
        return Birds[role] = _launcher.Start(role, "bird-" + role,
            ["bird", "-f", "-c", conf, "-s", BirdSocket(role), "-P", Path.Combine(WorkDir, $"bird-{role}.pid")]);
    }

    /// <summary>Starts everything; processes start in parallel and are waited for afterwards (the cores are shared).</summary>
    public void StartAll(TextWriter progress)
    {
        var rsConf = Path.Combine(WorkDir, "realserver.toml");
        File.WriteAllText(rsConf, SeedLab.RealServerConfig());
        foreach (var rs in SeedLab.RealServers)
            Agents[rs.Role] = Tunlb(rs.Role, "agent-" + rs.Role, "realserver", "--config", rsConf);
        Bird("rt", BirdConfigs.Router);
        foreach (var d in SeedLab.Directors) Bird(d.Role, SeedLab.DirectorBirdConfig(d));
        foreach (var d in SeedLab.Directors) StartDirector(d, wait: false);
        EgressListener = Tunlb("rt", "egress-listen", "egress-listen", "--vip", SeedLab.Vip,
            "--listen", $"{SeedLab.Router}:{SeedLab.EgressListenPort}", "--token", SeedLab.ApiToken);

        foreach (var (role, agent) in Agents)
            if (!agent.WaitForOutput(LabServices.AgentReady, 60_000))
                throw new InvalidOperationException($"real-server agent on {role} did not start:\n{agent.Output}");
        progress.WriteLine($"  {Agents.Count} real-server agents are up");
        foreach (var rs in SeedLab.RealServers)
            WebServers[rs.Role] = _launcher.Start(rs.Role, "http-" + rs.Role,
                ["/usr/bin/python3", "-u", "-c", HttpServer, Path.Combine(WorkDir, "www-" + rs.Role)]);
        foreach (var (role, web) in WebServers)
            if (!web.WaitForOutput("Serving HTTP", 30_000))
                throw new InvalidOperationException($"HTTP server on {role} did not start:\n{web.Output}");
        progress.WriteLine($"  {WebServers.Count} HTTP servers are up (VIP {SeedLab.Vip}:80 and each real's own address)");
        foreach (var (role, dir) in Directors)
            if (!dir.WaitForOutput(LabServices.DirectorReady, 60_000))
                throw new InvalidOperationException($"director {role} did not start:\n{dir.Output}");
        if (!EgressListener.WaitForOutput("listening on", 30_000))
            throw new InvalidOperationException($"egress-listen on the router did not start:\n{EgressListener.Output}");
        progress.WriteLine($"  {Directors.Count} directors are up, each beside its own BIRD; egress-listen runs on the router");
    }

    /// <summary>Starts (or restarts) one director with its config.</summary>
    public ILabProcess StartDirector(SeedDirector d, bool wait = true)
    {
        var conf = Path.Combine(WorkDir, $"director-{d.Role}.toml");
        File.WriteAllText(conf, SeedLab.DirectorConfig(d));
        var p = Directors[d.Role] = Tunlb(d.Role, "director-" + d.Role, "director", "--config", conf);
        if (wait && !p.WaitForOutput(LabServices.DirectorReady, 60_000))
            throw new InvalidOperationException($"director {d.Role} did not start:\n{p.Output}");
        return p;
    }
}
