using System.Security.Cryptography;
using TunLB.Lab;

namespace TunLB.EndToEnd.Tests;

/// <summary>
/// The standard lab with, on every real server, a 2 MiB random file ("big", for downloads whose SHA-256 is the judge)
/// and a UDP recorder on VIP:5353, then the director started with the config a subclass gives. The common ground of the
/// multi-worker and XDP labs.
/// </summary>
public abstract class BlobAndUdpLabFixture : IDisposable
{
    public const int UdpPort = 5353;
    public const int BigSize = 2 * 1024 * 1024;

    public StandardLab Lab { get; }
    public LabServices Services { get; }
    public string WorkDir { get; }
    public string BigSha256 { get; }
    public Dictionary<string, BackgroundProcess> Udp { get; } = new();
    public Topology T => Lab.Topology;

    /// <summary>Prints one line per datagram: "udp SIZE PEER_ADDRESS PEER_PORT".</summary>
    public const string UdpRecorder =
        "import socket\n" +
        "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.bind(('" + StandardLab.Vip + "',5353)); print('udp ready',flush=True)\n" +
        "while True:\n d,a=s.recvfrom(65535); print('udp %d %s %d' % (len(d),a[0],a[1]),flush=True)\n";

    /// <summary>A UDP service on VIP:<see cref="UdpPort"/> (rr, every real server), to append to a director config.</summary>
    public static string UdpService => $$"""

        [[service]]
        vip = "{{StandardLab.Vip}}"
        port = {{UdpPort}}
        protocol = "udp"
        scheduler = "rr"
        {{string.Concat(StandardLab.RealServers.Select(r => $"\n[[service.real]]\naddress = \"{r.Address}\"\n"))}}
        """;

    /// <param name="name">Suffix of the work directory.</param>
    /// <param name="blobSeed">Seed of the random file's bytes.</param>
    /// <param name="directorConfig">The director's config file.</param>
    protected BlobAndUdpLabFixture(string name, int blobSeed, string directorConfig)
    {
        var prefix = Topology.NewPrefix();
        WorkDir = Path.Combine(Path.GetTempPath(), prefix + name);
        Lab = StandardLab.Build(prefix);
        try
        {
            Services = new LabServices(Lab, Tunlb.Command(), WorkDir);
            Services.StartRealServers();
            var big = new byte[BigSize];
            new Random(blobSeed).NextBytes(big);
            BigSha256 = Convert.ToHexStringLower(SHA256.HashData(big));
            foreach (var rs in StandardLab.RealServers)
            {
                File.WriteAllBytes(Path.Combine(WorkDir, "www-" + rs.Role, "big"), big);
                var p = T.Start(rs.Role, $"udp-{rs.Role}", "python3", "-u", "-c", UdpRecorder);
                if (!p.WaitForOutput("udp ready", LabServices.StartTimeoutMs)) throw new InvalidOperationException($"UDP recorder on {rs.Role} did not start:\n{p.Output}");
                Udp[rs.Role] = p;
            }
            Services.StartDirector(directorConfig);
        }
        catch
        {
            Lab.Topology.Dispose();
            throw;
        }
    }

    public Sh.Result Curl(params string[] args) => T.Try("client", 60_000, ["curl", "-s", "--max-time", "30", .. args]);

    public virtual void Dispose()
    {
        Lab.Topology.Dispose();
        try { Directory.Delete(WorkDir, true); } catch { }
        GC.SuppressFinalize(this);
    }
}
