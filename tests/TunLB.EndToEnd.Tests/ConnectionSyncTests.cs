using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using TunLB.Core.Connections;
using TunLB.Core.Flows;
using TunLB.Core.Sync;
using TunLB.Lab;
using Xunit.Abstractions;

namespace TunLB.EndToEnd.Tests;

/// <summary>
/// Connection sync ([sync], docs/connection-sync.md) between two directors in namespaces:
/// <code>
///  client 198.51.100.10 ── rt ──┬── d1 198.18.0.2   (VIP route on rt: via d1, then moved to d2 mid-download)
///                               ├── d2 198.18.0.6
///                               ├── r1 192.0.2.11   (tunlb realserver + HTTP on the VIP)
///                               └── r2 192.0.2.19
/// </code>
/// Downloads started through d1 (some before d2 runs: d2 gets them by bulk resync; some after: live records) go on
/// byte-exact when rt sends their packets to d2, with wlc, which would choose differently on d2. And a message from
/// a non-peer or with a wrong key changes nothing and is counted.
/// </summary>
public sealed class ConnectionSyncTests(ITestOutputHelper output) : IDisposable
{
    private const string Vip = "203.0.113.10";
    private const string Key = "e2e-sync-key-0123456789abcdef";
    private const int BlobSize = 1_200_000; // 24 s at curl's 50 kB/s: still running when the route moves on a loaded machine
    private readonly Topology _t = new(Topology.NewPrefix());
    private readonly string _dir = Directory.CreateTempSubdirectory("tunlb-e2e-sync-").FullName;

    public void Dispose()
    {
        _t.Dispose();
        try { Directory.Delete(_dir, true); } catch { }
    }

    private static string DirectorConfig(string peer, string key = Key, int resyncWait = 2) => $$"""
        [director]
        api = "127.0.0.1:9400"
        io = "tun"

        [sync]
        peers = ["{{peer}}"]
        key = "{{key}}"
        resync_wait = {{resyncWait}}

        [[service]]
        vip = "{{Vip}}"
        port = 80
        scheduler = "wlc"

        [[service.real]]
        address = "192.0.2.11"

        [[service.real]]
        address = "192.0.2.19"
        """;

    private void BuildNetwork(bool reals)
    {
        _t.Host("c");
        _t.Host("rt", router: true);
        _t.Host("d1", router: true);
        _t.Host("d2", router: true);
        _t.Link("c", "eth0", "198.51.100.10/24", "rt", "cli", "198.51.100.1/24");
        _t.DefaultRoute("c", "198.51.100.1");
        // A small receive buffer keeps the transfer on the wire at curl's --limit-rate (the default would take the
        // whole file into the socket buffer in a second, before any director change).
        _t.Exec("c", "sysctl", "-q", "-w", "net.ipv4.tcp_rmem=4096 16384 32768");
        _t.Link("d1", "eth0", "198.18.0.2/30", "rt", "d1", "198.18.0.1/30");
        _t.DefaultRoute("d1", "198.18.0.1");
        _t.Link("d2", "eth0", "198.18.0.6/30", "rt", "d2", "198.18.0.5/30");
        _t.DefaultRoute("d2", "198.18.0.5");
        _t.Route("rt", Vip + "/32", "198.18.0.2");
        if (!reals) return;
        _t.Host("r1");
        _t.Host("r2");
        _t.Link("r1", "eth0", "192.0.2.11/29", "rt", "r1", "192.0.2.9/29");
        _t.DefaultRoute("r1", "192.0.2.9");
        _t.Link("r2", "eth0", "192.0.2.19/29", "rt", "r2", "192.0.2.17/29");
        _t.DefaultRoute("r2", "192.0.2.17");
    }

    private BackgroundProcess StartDirector(string role, string config)
    {
        var path = Path.Combine(_dir, role + ".toml");
        File.WriteAllText(path, config);
        var d = _t.Start(role, role, Tunlb.Command()[0], "director", "--config", path);
        Assert.True(d.WaitForOutput(LabServices.DirectorReady, LabServices.StartTimeoutMs), d.Output);
        return d;
    }

    private string StartRealServers()
    {
        var blob = new byte[BlobSize];
        new Random(7).NextBytes(blob);
        var www = Path.Combine(_dir, "www");
        Directory.CreateDirectory(www);
        File.WriteAllBytes(Path.Combine(www, "blob"), blob);
        var rsConf = Path.Combine(_dir, "realserver.toml");
        File.WriteAllText(rsConf, $"[realserver]\nvips = [\"{Vip}\"]\ndirectors = [\"198.18.0.2\", \"198.18.0.6\"]\n");
        foreach (var r in new[] { "r1", "r2" })
        {
            var agent = _t.Start(r, "agent-" + r, Tunlb.Command()[0], "realserver", "--config", rsConf);
            Assert.True(agent.WaitForOutput(LabServices.AgentReady, LabServices.StartTimeoutMs), agent.Output);
            var web = _t.Start(r, "http-" + r, "python3", "-u", "-m", "http.server", "80", "--bind", Vip, "--directory", www);
            Assert.True(web.WaitForOutput("Serving HTTP", LabServices.StartTimeoutMs), web.Output);
        }
        return Convert.ToHexStringLower(SHA256.HashData(blob));
    }

    private JsonElement Api(string role, string path) =>
        JsonDocument.Parse(_t.Exec(role, "curl", "-s", "--max-time", "5", "http://127.0.0.1:9400" + path)).RootElement;

    private long Sync(string role, string field) => Api(role, "/api/v1/sync").GetProperty(field).GetInt64();

    private BackgroundProcess Download(int i) =>
        _t.Start("c", $"dl{i}", "curl", "-s", "-S", "--max-time", "90", "--limit-rate", "50k", "-o", Path.Combine(_dir, $"dl{i}"),
            $"http://{Vip}/blob");

    [Fact]
    public void DownloadsThroughOneDirectorContinueByteExactWhenTheirPacketsMoveToThePeer()
    {
        BuildNetwork(reals: true);
        string sha = StartRealServers();
        var d1 = StartDirector("d1", DirectorConfig("198.18.0.6", resyncWait: 1)); // d2 not there yet: serves after 1 s
        var downloads = new List<BackgroundProcess>();
        for (int i = 0; i < 4; i++) downloads.Add(Download(i));   // before d2 runs: d2 gets these by bulk resync
        Assert.True(WaitUntil(() => Connections("d1") >= 4, 30_000), $"d1 lists {Connections("d1")} connections\n{Describe(downloads)}");

        var started = Stopwatch.StartNew();
        var d2 = StartDirector("d2", DirectorConfig("198.18.0.2"));
        output.WriteLine($"d2 was ready {started.ElapsedMilliseconds} ms after its start");
        var s2 = Api("d2", "/api/v1/sync");
        output.WriteLine($"d2 ready: {s2}");
        Assert.True(s2.GetProperty("synced").GetBoolean());
        Assert.Equal(["198.18.0.2"], s2.GetProperty("peers_synced").EnumerateArray().Select(e => e.GetString()));
        Assert.True(Sync("d1", "bulk_records_sent") >= 4, Api("d1", "/api/v1/sync").ToString());

        for (int i = 4; i < 8; i++) downloads.Add(Download(i));   // live records
        // The route moves once d2 holds all eight (four by bulk resync, four live), however long a loaded machine takes.
        Assert.True(WaitUntil(() => Connections("d2") >= 8, 30_000), $"d2 lists {Connections("d2")} connections, d1 {Connections("d1")}\n{Describe(downloads)}");
        Assert.True(downloads.All(d => !d.HasExited), Describe(downloads));
        long before = D2Forwarded();
        var sw = Stopwatch.StartNew();
        _t.Exec("rt", "ip", "route", "replace", Vip + "/32", "via", "198.18.0.6");
        output.WriteLine("route moved to d2");

        while (downloads.Any(d => !d.HasExited) && sw.ElapsedMilliseconds < 90_000) Thread.Sleep(200);
        long after = D2Forwarded();
        var d1Sync = Api("d1", "/api/v1/sync");
        var d2Sync = Api("d2", "/api/v1/sync");
        output.WriteLine($"d1: {d1Sync}\nd2: {d2Sync}\nd2 forwarded {after - before} packets after the move, in {sw.ElapsedMilliseconds} ms");
        output.WriteLine(_t.Exec("d2", "curl", "-s", "http://127.0.0.1:9400/api/v1/services"));

        for (int i = 0; i < downloads.Count; i++)
        {
            Assert.True(downloads[i].HasExited && downloads[i].ExitCode == 0, Describe(downloads));
            Assert.Equal(sha, Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(Path.Combine(_dir, $"dl{i}")))));
        }
        Assert.True(after - before > 100, $"d2 forwarded only {after - before} packets: the route move did not take");
        Assert.True(d2Sync.GetProperty("records_applied").GetInt64() >= 4, d2Sync.ToString());
        // Both reals carried downloads (wlc spreads them), so d2's own choice would have broken some.
        var reals = Api("d1", "/api/v1/services")[0].GetProperty("reals").EnumerateArray().Select(r => r.GetProperty("stats").GetProperty("conns").GetInt64()).ToArray();
        Assert.True(reals.All(c => c > 0), $"d1 connections per real: {string.Join(",", reals)}");
        GC.KeepAlive(d1); GC.KeepAlive(d2);
    }

    private string Describe(List<BackgroundProcess> downloads) => string.Join("\n", downloads.Select((d, i) =>
        $"download {i}: {(d.HasExited ? $"exit {d.ExitCode}" : "running")}, " +
        $"{(File.Exists(Path.Combine(_dir, $"dl{i}")) ? new FileInfo(Path.Combine(_dir, $"dl{i}")).Length : -1)} bytes: {d.Output}"));

    private long D2Forwarded() => Api("d2", "/api/v1/info").GetProperty("workers").EnumerateArray().Sum(w => w.GetProperty("forwarded").GetInt64());

    private static string Message(string key, ushort clientPort)
    {
        var b = new SyncMessageBuilder(Encoding.UTF8.GetBytes(key), 0);
        b.TryAdd(SyncRecord.From(new FlowKey(IpAddress.Parse("198.51.100.10"), IpAddress.Parse(Vip), clientPort, 80, 6),
            ConnState.Established, IpAddress.Parse("192.0.2.19"), 80, 900));
        return Convert.ToHexString(b.Seal().Span);
    }

    /// <summary>Sends a UDP datagram to d1's sync port from the client namespace with scapy, with any source address.</summary>
    private void Send(string source, string hex) =>
        _t.Exec("c", "/usr/bin/python3", "-c",
            "import sys\nfrom scapy.all import IP, UDP, Raw, send\n" +
            $"send(IP(src='{source}', dst='198.18.0.2')/UDP(sport=8848, dport=8848)/Raw(bytes.fromhex('{hex}')), verbose=0)\n");

    private int Connections(string role = "d1") => Api(role, "/api/v1/connections").GetArrayLength();

    /// <summary>Polls <paramref name="want"/> every 200 ms; false when it did not hold within the timeout. A look that fails
    /// (the API did not answer curl's 5 s on an overloaded machine) counts as not yet.</summary>
    private static bool WaitUntil(Func<bool> want, int timeoutMs)
    {
        var sw = Stopwatch.StartNew();
        while (!Holds(want))
        {
            if (sw.ElapsedMilliseconds > timeoutMs) return false;
            Thread.Sleep(200);
        }
        return true;
    }

    private static bool Holds(Func<bool> want)
    {
        try { return want(); }
        catch (Exception e) when (e is InvalidOperationException or JsonException) { return false; }
    }

    private long Dropped(string reason) => Api("d1", "/api/v1/sync").GetProperty("messages_dropped").GetProperty(reason).GetInt64();

    [Fact]
    public void MessagesFromANonPeerOrWithAWrongKeyChangeNothingAndAreCounted()
    {
        BuildNetwork(reals: false);
        StartDirector("d1", DirectorConfig("198.18.0.6", resyncWait: 0));
        Assert.Equal(0, Connections());

        Send("198.51.100.10", Message(Key, 50001));                     // right key, not a peer
        Send("198.18.0.6", Message("another-key-0123456789abcdef", 50002)); // the peer's address, wrong key
        WaitUntil(() => Dropped("non_peer") >= 1 && Dropped("bad_mac") >= 1, 20_000); // then exactly one each, below
        var s = Api("d1", "/api/v1/sync");
        output.WriteLine(s.ToString());
        Assert.Equal(1, s.GetProperty("messages_dropped").GetProperty("non_peer").GetInt64());
        Assert.Equal(1, s.GetProperty("messages_dropped").GetProperty("bad_mac").GetInt64());
        Assert.Equal(0, s.GetProperty("records_applied").GetInt64());
        Assert.Equal(0, Connections());
        var metrics = _t.Exec("d1", "curl", "-s", "http://127.0.0.1:9400/metrics");
        Assert.Contains("tunlb_sync_messages_dropped_total{reason=\"non_peer\"} 1", metrics);
        Assert.Contains("tunlb_sync_messages_dropped_total{reason=\"bad_mac\"} 1", metrics);

        Send("198.18.0.6", Message(Key, 50003));                        // the same from the peer with the key: taken
        WaitUntil(() => Sync("d1", "records_applied") >= 1, 20_000);
        Assert.Equal(1, Sync("d1", "records_applied"));
        Assert.Equal(1, Connections());
    }
}
