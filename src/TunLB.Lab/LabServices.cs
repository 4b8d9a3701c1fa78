using System.Security.Cryptography;

namespace TunLB.Lab;

/// <summary>Starts TunLB and the HTTP services inside a built <see cref="StandardLab"/>.</summary>
public sealed class LabServices
{
    /// <summary>Size of the download file each real server serves as /blob (300 kB).</summary>
    public const int BlobSize = 300 * 1024;

    /// <summary>The director's start-up line, printed once the API is bound and the workers run. Wait for the whole prefix:
    /// "ready" alone also matches earlier lines (a recovered journal's "already gone").</summary>
    public const string DirectorReady = "tunlb director: ready:";

    /// <summary>The real-server agent's start-up line (decap device, VIPs and agent-check server up).</summary>
    public const string AgentReady = "tunlb realserver: ready:";

    private const string PythonHttpServer =
        "import runpy, socketserver; socketserver.TCPServer.request_queue_size = 128; " +
        "runpy.run_module('http.server', run_name='__main__', alter_sys=True)";

    /// <summary>How long a daemon may take to start: a .NET start plus host setup on a loaded 2-core machine.</summary>
    public const int StartTimeoutMs = 60_000;

    private readonly StandardLab _lab;
    private readonly string[] _tunlb;
    public string WorkDir { get; }
    public BackgroundProcess? Director { get; private set; }
    public Dictionary<string, BackgroundProcess> Agents { get; } = new();
    public string BlobSha256 { get; private set; } = "";

    /// <param name="tunlb">How to run the tunlb CLI, e.g. ["/path/tunlb"] or ["dotnet", "/path/tunlb.dll"].</param>
    public LabServices(StandardLab lab, string[] tunlb, string workDir)
    {
        _lab = lab; _tunlb = tunlb; WorkDir = workDir;
        Directory.CreateDirectory(workDir);
    }

    /// <summary>The command line that runs this very process's CLI (apphost or `dotnet x.dll`).</summary>
    public static string[] SelfCommand()
    {
        var path = Environment.ProcessPath ?? "tunlb";
        if (Path.GetFileNameWithoutExtension(path) == "dotnet")
            return [path, Environment.GetCommandLineArgs()[0]];
        return [path];
    }

    private BackgroundProcess StartTunlb(string role, string label, params string[] args) =>
        _lab.Topology.Start(role, label, _tunlb[0], [.. _tunlb.Skip(1), .. args]);

    /// <summary>Starts the real-server agents and an HTTP server bound to the VIP on each real server.</summary>
    /// <param name="realServerConfig">The agents' config; <see cref="StandardLab.RealServerConfig"/> when null.</param>
    public void StartRealServers(bool http = true, string? realServerConfig = null)
    {
        var blob = new byte[BlobSize];
        new Random(42).NextBytes(blob);
        BlobSha256 = Convert.ToHexStringLower(SHA256.HashData(blob));
        var rsConf = Path.Combine(WorkDir, "realserver.toml");
        File.WriteAllText(rsConf, realServerConfig ?? StandardLab.RealServerConfig());
        foreach (var rs in StandardLab.RealServers)
        {
            var agent = StartTunlb(rs.Role, $"agent-{rs.Role}", "realserver", "--config", rsConf);
            if (!agent.WaitForOutput(AgentReady, StartTimeoutMs))
                throw new InvalidOperationException($"real-server agent on {rs.Role} did not start:\n{agent.Output}");
            Agents[rs.Role] = agent;
            if (!http) continue;
            var root = Path.Combine(WorkDir, "www-" + rs.Role);
            Directory.CreateDirectory(root);
            File.WriteAllText(Path.Combine(root, "index.html"), rs.Role + "\n");
            File.WriteAllBytes(Path.Combine(root, "blob"), blob);
            // Python's http.server, with a listen backlog of 128 instead of its 5: a burst of connections (100 downloads
            // at once) otherwise overflows the accept queue and SYN-cookie'd handshakes stall for minutes.
            var web = _lab.Topology.Start(rs.Role, $"http-{rs.Role}", "python3", "-u", "-c", PythonHttpServer, "80",
                "--bind", StandardLab.Vip, "--directory", root);
            if (!web.WaitForOutput("Serving HTTP", StartTimeoutMs))
                throw new InvalidOperationException($"HTTP server on {rs.Role} did not start:\n{web.Output}");
        }
    }

    /// <summary>Writes the director config and starts the director.</summary>
    public BackgroundProcess StartDirector(string config)
    {
        var path = Path.Combine(WorkDir, "director.toml");
        File.WriteAllText(path, config);
        Director = StartTunlb("director", "director", "director", "--config", path);
        if (!Director.WaitForOutput(DirectorReady, StartTimeoutMs))
            throw new InvalidOperationException($"director did not start:\n{Director.Output}");
        return Director;
    }
}
