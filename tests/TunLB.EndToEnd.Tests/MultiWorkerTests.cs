using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using TunLB.Lab;

namespace TunLB.EndToEnd.Tests;

/// <summary>
/// The standard lab with a director running two data-path workers (workers = 2: a two-queue TUN device, two
/// engines): TCP through the VIP, statistics and connection listings over both workers, and a UDP service whose
/// fragmented datagrams (queued by the kernel on an address-only hash) must follow the flow of the same client port.
/// </summary>
public class MultiWorkerLabFixture : BlobAndUdpLabFixture
{
    /// <summary>
    /// The lab's rr service on port 80 with an HTTP health check through the tunnel (checks from the director's own
    /// ports 61000-61099 are pinned flows: each check connection lands on either TUN queue), plus a UDP service.
    /// </summary>
    public static string Config(string io) => StandardLab.DirectorConfig("rr")
        .Replace("[director]", $"[director]\nworkers = 2\nio = \"{io}\"\ncheck_port_range = \"61000-61099\"")
        .Replace("persistence = 0", "persistence = 0\n\n[service.check]\ntype = \"http\"\npath = \"/index.html\"\ninterval = 0.5\ntimeout = 0.5\nrise = 1\nfall = 2") +
        UdpService;

    public MultiWorkerLabFixture() : this("tun") { }

    /// <param name="io">The capture backend: "tun" (two TUN queues) or "afpacket" (two rings in one fanout group).</param>
    protected MultiWorkerLabFixture(string io) : base("workers", 7, Config(io)) => Io = io;

    public string Io { get; }

    public Sh.Result Adm(params string[] args) => T.Try("director", 30_000, [Tunlb.Command()[0], "adm", .. args]);
    public Sh.Result Api(string path) => T.Try("director", 30_000, "curl", "-s", "--max-time", "10", "http://127.0.0.1:9400" + path);
}

/// <summary>The same lab with `io = "afpacket"`: two capture rings in one PACKET_FANOUT_HASH group instead of two TUN queues.</summary>
public sealed class MultiWorkerAfPacketLabFixture : MultiWorkerLabFixture
{
    public MultiWorkerAfPacketLabFixture() : base("afpacket") { }
}

public sealed class MultiWorkerTests(MultiWorkerLabFixture f) : MultiWorkerTestsBase(f), IClassFixture<MultiWorkerLabFixture>;

public sealed class MultiWorkerAfPacketTests(MultiWorkerAfPacketLabFixture f) : MultiWorkerTestsBase(f), IClassFixture<MultiWorkerAfPacketLabFixture>
{
    [Fact]
    public void StartupLineNamesTwoRingsInOneFanoutGroup() =>
        Assert.Contains("x 2 (one per worker, fanout by flow hash)", _f.Services.Director!.Output);
}

/// <summary>The multi-worker checks, run against each capture backend.</summary>
public abstract class MultiWorkerTestsBase
{
    private const string Vip = StandardLab.Vip;
    protected readonly MultiWorkerLabFixture _f;
    protected MultiWorkerTestsBase(MultiWorkerLabFixture f) { _f = f; }

    private static void AssertOk(Sh.Result r) => Assert.True(r.ExitCode == 0, $"exit {r.ExitCode}: {r.Stderr}{r.Stdout}");

    [Fact]
    public void TcpThroughTwoWorkersCountsListsAndDownloadsLikeOne()
    {
        Assert.Contains("2 workers", _f.Services.Director!.Output);
        AssertOk(_f.Adm("-Z", "-t", $"{Vip}:80"));

        var counts = new Dictionary<string, int>();
        for (int i = 0; i < 30; i++)
        {
            var r = _f.Curl($"http://{Vip}/");
            Assert.True(r.ExitCode == 0, $"curl #{i} failed: {r.ExitCode} {r.Stderr}");
            var who = r.Stdout.Trim();
            counts[who] = counts.GetValueOrDefault(who) + 1;
        }
        // rr spreads over all three; each worker runs its own scheduling decisions on the shared scheduler.
        Assert.Equal(new[] { "rs1", "rs2", "rs3" }, counts.Keys.Order().ToArray());
        Assert.Equal(30, counts.Values.Sum());

        // ipvsadm -L -n --stats: the service's and the reals' connection totals are the 30 requests.
        var s = _f.Adm("-L", "-n", "--stats");
        AssertOk(s);
        var svc = Regex.Match(s.Stdout, $@"^TCP\s+{Regex.Escape(Vip)}:80\s+(\d+)\s+(\d+)", RegexOptions.Multiline);
        Assert.True(svc.Success, s.Stdout);
        Assert.Equal(30, int.Parse(svc.Groups[1].Value));
        Assert.True(int.Parse(svc.Groups[2].Value) >= 30 * 5, s.Stdout); // SYN, ACK, request, ACKs, FIN per request
        var tcpBlock = s.Stdout[svc.Index..];
        var udpAt = tcpBlock.IndexOf("UDP ", StringComparison.Ordinal);
        if (udpAt > 0) tcpBlock = tcpBlock[..udpAt];
        var reals = Regex.Matches(tcpBlock, @"^  -> \S+:80\s+(\d+)", RegexOptions.Multiline);
        Assert.Equal(3, reals.Count);
        Assert.Equal(30, reals.Sum(m => int.Parse(m.Groups[1].Value)));

        // ipvsadm -L -c lists the connections of both workers; the API shows both tables hold entries.
        var c = _f.Adm("-L", "-n", "-c");
        AssertOk(c);
        Assert.True(Regex.Matches(c.Stdout, $@"TCP\s+\S+\s+\S+\s+{Regex.Escape(StandardLab.ClientAddress)}:\d+\s+{Regex.Escape(Vip)}:80").Count >= 30, c.Stdout);
        var info = _f.Api("/api/v1/info");
        AssertOk(info);
        using var doc = JsonDocument.Parse(info.Stdout);
        var workers = doc.RootElement.GetProperty("workers").EnumerateArray().ToList();
        Assert.Equal(2, workers.Count);
        Assert.All(workers, w => Assert.True(w.GetProperty("connections").GetInt32() > 0, info.Stdout));
        Assert.Equal(workers.Sum(w => w.GetProperty("connections").GetInt32()), doc.RootElement.GetProperty("connections").GetInt32());

        // A 2 MB download arrives intact.
        var outFile = Path.Combine(_f.WorkDir, "big.bin");
        var d = _f.Curl("-o", outFile, $"http://{Vip}/big");
        Assert.True(d.ExitCode == 0, $"download failed: {d.ExitCode} {d.Stderr}");
        Assert.Equal(MultiWorkerLabFixture.BigSize, new FileInfo(outFile).Length);
        Assert.Equal(_f.BigSha256, Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(outFile))));
    }

    [Fact]
    public void FragmentedAndSmallDatagramsFromOneClientPortReachOneRealServer()
    {
        int[] before = StandardLab.RealServers.Select(rs => _f.Udp[rs.Role].Output.Length).ToArray();
        long adoptedBefore = PeerAdopted();
        const int Ports = 8, PerPort = 6, FirstPort = 47001;
        // Per client port one socket: small and 4000-byte datagrams (fragmented by the client at MTU 1500, no DF)
        // mixed, half the ports starting with a big one. The small ones are queued on the flow's TUN queue, the
        // fragments on the queue of the addresses' hash, which for about half the ports is the other worker.
        var py = $$"""
            import socket, time
            socks = []
            for p in range({{Ports}}):
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                s.setsockopt(socket.IPPROTO_IP, 10, 0)   # IP_MTU_DISCOVER = IP_PMTUDISC_DONT
                s.bind(('{{StandardLab.ClientAddress}}', {{FirstPort}} + p))
                socks.append(s)
            for i in range({{PerPort}}):
                for p, s in enumerate(socks):
                    big = (i + p) % 2 == 0
                    s.sendto(b'x' * (4000 if big else 100), ('{{Vip}}', {{MultiWorkerLabFixture.UdpPort}}))
                time.sleep(0.05)
            """;
        var r = _f.T.Try("client", 30_000, "python3", "-c", py);
        AssertOk(r);

        var got = new List<(string Role, int Size, int Port)>();
        var sw = System.Diagnostics.Stopwatch.StartNew();
        while (sw.ElapsedMilliseconds < 30_000) // returns as soon as all arrived; the recorders are python on a loaded machine
        {
            got.Clear();
            for (int i = 0; i < StandardLab.RealServers.Count; i++)
            {
                var role = StandardLab.RealServers[i].Role;
                foreach (var line in _f.Udp[role].Output[before[i]..].Split('\n'))
                {
                    var f = line.Trim().Split(' ');
                    if (f.Length == 4 && f[0] == "udp" && int.TryParse(f[3], out int port) && port >= FirstPort && port < FirstPort + Ports)
                        got.Add((role, int.Parse(f[1]), port));
                }
            }
            if (got.Count >= Ports * PerPort) break;
            Thread.Sleep(200);
        }
        Assert.True(got.Count == Ports * PerPort, $"datagrams: {string.Join(", ", got)}\n{_f.Services.Director!.Output}");
        Assert.Equal(Ports * PerPort / 2, got.Count(g => g.Size == 4000));
        foreach (var flow in got.GroupBy(g => g.Port))
            Assert.True(flow.Select(g => g.Role).Distinct().Count() == 1, $"client port {flow.Key} reached {string.Join(", ", flow.Select(g => $"{g.Role}({g.Size})"))}");
        Assert.True(got.Select(g => g.Role).Distinct().Count() >= 2, "rr should spread the flows over several servers");
        // TUN queues: some flow's packets landed on both workers, and the second one followed the first one's choice (all
        // eight flows having their fragments on their own queue has probability 1/256). Capture rings: the fanout group
        // reassembles fragments before hashing (PACKET_FANOUT_FLAG_DEFRAG), so a flow's datagrams share a ring and the
        // check above (one real per client port) is what matters.
        if (_f.Io == "tun")
            Assert.True(PeerAdopted() > adoptedBefore, "no flow was looked up in the other worker's table");
    }

    private long PeerAdopted()
    {
        var info = _f.Api("/api/v1/info");
        AssertOk(info);
        using var doc = JsonDocument.Parse(info.Stdout);
        return doc.RootElement.GetProperty("workers").EnumerateArray().Sum(w => w.GetProperty("peer_adopted").GetInt64());
    }

    [Fact]
    public void HealthChecksThroughTheTunnelArePinnedOnEveryWorker()
    {
        // Every check connection uses a new source port, so over a few seconds the checks land on both queues. A
        // worker that did not know the pinned flows would schedule them like clients: entries from the director's
        // own address would appear in the connection table.
        JsonElement health = default;
        var sw = System.Diagnostics.Stopwatch.StartNew();
        long pinned = 0;
        while (sw.ElapsedMilliseconds < 60_000) // a count to reach, not a deadline
        {
            var h = _f.Api("/api/v1/health");
            AssertOk(h);
            health = JsonDocument.Parse(h.Stdout).RootElement.Clone();
            pinned = health.GetProperty("pinned_check_packets").GetInt64();
            if (pinned >= 100) break;
            Thread.Sleep(500);
        }
        Assert.True(pinned >= 100, $"pinned check packets: {pinned}");
        var reals = health.GetProperty("services").EnumerateArray()
            .Single(x => x.GetProperty("port").GetInt32() == 80).GetProperty("reals").EnumerateArray().ToList();
        Assert.Equal(3, reals.Count);
        Assert.All(reals, r => Assert.Equal("up", r.GetProperty("health").GetProperty("status").GetString()));

        var c = _f.Adm("-L", "-n", "-c");
        AssertOk(c);
        Assert.DoesNotContain(StandardLab.DirectorAddress + ":", c.Stdout);
        Assert.True(_f.Services.Director!.Output.Contains("DOWN") == false, _f.Services.Director.Output);
    }
}
