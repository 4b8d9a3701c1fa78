using System.Diagnostics;
using System.Security.Cryptography;
using TunLB.Lab;
using Xunit.Abstractions;

namespace TunLB.EndToEnd.Tests.Hardening;

/// <summary>kill -9 of the director and of a real-server agent during downloads, then a restart (docs/robustness.md).</summary>
public sealed class CrashRestartTests(ITestOutputHelper output)
{
    private const int Downloads = 100;

    [Fact]
    public void DirectorKilledDuringDownloadsRestartsCleansUpAndTheDownloadsFinish()
    {
        using var lab = new HardeningLab();
        var t = lab.T;
        HostSnapshot.WaitForDad(t, "director");
        string before = HostSnapshot.Take(t, "director");
        string cfg = HardeningLab.Config("mh", "");
        var d = lab.StartDirector(cfg);

        var (curl, files) = StartDownloads(lab, "40k");    // 300 KB at 40 kB/s: about 7.5 s each
        int inFlight = WaitInFlight(curl, files);
        output.WriteLine($"{inFlight}/{Downloads} downloads in flight at the kill");
        Assert.True(inFlight > 0, "no download was in flight at the kill: " + curl.Output);
        Sh.Run("kill", ["-KILL", d.Pid.ToString()]);
        var sw = Stopwatch.StartNew();
        while (!d.HasExited && sw.ElapsedMilliseconds < 10_000) Thread.Sleep(20);
        Assert.True(d.HasExited);
        string crashed = HostSnapshot.Take(t, "director");

        var d2 = lab.StartDirector(cfg);                    // the same config
        output.WriteLine($"restarted {sw.ElapsedMilliseconds} ms after kill -9");
        Assert.True(WaitDone(curl), curl.Output);
        int ok = files.Count(f => File.Exists(f) && Sha(f) == lab.Services.BlobSha256);
        output.WriteLine($"{ok}/{Downloads} downloads complete and intact");
        output.WriteLine(d2.Output);
        var stats = lab.Api("/api/v1/services");
        output.WriteLine(stats.ToString());

        Assert.Equal(Downloads, ok);
        Assert.Contains($"removed what process {d.Pid} left", d2.Output);   // the restart says what it removed
        Assert.NotEqual(before, crashed);                                    // the crash did leave something (reserved ports)
        Assert.Equal(0, d2.Stop(15));
        string after = HostSnapshot.Take(t, "director");
        Assert.True(before == after, HostSnapshot.Diff(before, after));
    }

    [Fact]
    public void RealServerAgentKilledDuringDownloadsRestartsCleansUpAndTheDownloadsFinish()
    {
        using var lab = new HardeningLab();
        var t = lab.T;
        lab.StartDirector(HardeningLab.Config("mh", ""));
        var (curl, files) = StartDownloads(lab, "40k");
        int inFlight = WaitInFlight(curl, files);
        // Every agent dies and comes back: whichever real server a download went to, it loses its agent.
        int rs1Pid = lab.Services.Agents["rs1"].Pid;
        var timeline = new List<string> { $"{inFlight}/{Downloads} downloads in flight at the kill" };
        var sw = Stopwatch.StartNew();
        foreach (var rs in StandardLab.RealServers)
        {
            var a = lab.Services.Agents[rs.Role];
            Sh.Run("kill", ["-KILL", a.Pid.ToString()]);
            while (!a.HasExited) Thread.Sleep(20);
            timeline.Add($"{rs.Role} agent killed at {sw.ElapsedMilliseconds} ms");
        }
        var restarted = new List<BackgroundProcess>();
        string rsConf = Path.Combine(lab.WorkDir, "realserver.toml");
        foreach (var rs in StandardLab.RealServers)
        {
            var a2 = t.Start(rs.Role, $"agent2-{rs.Role}", Tunlb.Command()[0], "realserver", "--config", rsConf);
            Assert.True(a2.WaitForOutput(LabServices.AgentReady, 20_000), a2.Output);
            timeline.Add($"{rs.Role} agent ready at {sw.ElapsedMilliseconds} ms");
            restarted.Add(a2);
        }
        // A download still running a minute after the restarts has stalled (each needs ~7.5 s): look at its sockets
        // from both ends while they exist.
        string stall = "";
        var wait = Stopwatch.StartNew();
        while (!curl.HasExited && wait.ElapsedMilliseconds < 60_000) Thread.Sleep(100);
        if (!curl.HasExited)
            stall = Sockets(lab, "client", "dport") + string.Concat(StandardLab.RealServers.Select(r => Sockets(lab, r.Role, "sport")));
        bool done = WaitDone(curl);
        int ok = files.Count(f => File.Exists(f) && Sha(f) == lab.Services.BlobSha256);
        output.WriteLine(string.Join("\n", timeline));
        output.WriteLine($"{ok}/{Downloads} downloads complete and intact");
        output.WriteLine(restarted[0].Output);
        Assert.True(inFlight > 0, "no download was in flight at the kill");
        if (!done || ok != Downloads)
            Assert.Fail($"{ok}/{Downloads} downloads complete\n{string.Join("\n", timeline)}\n" + Diagnose(lab, restarted, files) +
                "\nsockets a minute after the restarts:\n" + stall + "\ncurl:\n" + Tail(curl.Output, 3000));
        // What the agent set up lives on its TUN device, which died with it: the restart finds the journal and says so.
        Assert.Contains($"left by process {rs1Pid}: address {StandardLab.Vip}/32 on tunlb-rs0: already gone", restarted[0].Output);
    }

    // One curl, 100 parallel rate-limited transfers of the 300 KB blob from nginx (port 8080), each to its own file.
    // Not python's http.server on port 80: it listens with a backlog of 5, so 100 simultaneous connections overflow its
    // accept queue; the client's handshake ACKs (answered with SYN cookies) are dropped without a reset, and the stuck
    // connections retransmit together, about 6 getting in per round as the backoff doubles: in a loaded run 15-30 of
    // them were still waiting at curl's --max-time, whatever the load balancer did (docs/robustness.md).
    private static (BackgroundProcess Curl, string[] Files) StartDownloads(HardeningLab lab, string rate)
    {
        var files = Enumerable.Range(0, Downloads).Select(i => Path.Combine(lab.WorkDir, $"dl{i}.bin")).ToArray();
        var args = new List<string> { "-c", "curl -s -Z --parallel-immediate --parallel-max " + Downloads + " --max-time 100 --limit-rate " + rate + " " +
            string.Join(' ', files.Select(f => $"-o {f} http://{StandardLab.Vip}:{HardeningLab.KeepAlivePort}/blob")) + "; echo curl-done $?" };
        return (lab.T.Start("client", "downloads", "sh", [.. args]), files);
    }

    // Waits until every download has received its first bytes (curl creates the file then), or at least half of them
    // are receiving, at most 30 s, and returns how many are still incomplete: the kill must hit downloads in flight, not
    // connections still being opened. (On a quiet machine the first downloads could finish before the last one started.)
    private static int WaitInFlight(BackgroundProcess curl, string[] files)
    {
        static bool Receiving(string f) => File.Exists(f) && new FileInfo(f).Length is > 0 and < LabServices.BlobSize;
        var sw = Stopwatch.StartNew();
        while (!files.All(File.Exists) && files.Count(Receiving) < Downloads / 2 && !curl.HasExited && sw.ElapsedMilliseconds < 30_000)
            Thread.Sleep(20);
        return files.Count(f => !File.Exists(f) || new FileInfo(f).Length < LabServices.BlobSize);
    }

    // The process's exit can be seen before its last output line arrives: wait for the exit, then for the line.
    private static bool WaitDone(BackgroundProcess curl)
    {
        var sw = Stopwatch.StartNew();
        while (!curl.HasExited && sw.ElapsedMilliseconds < 120_000) Thread.Sleep(100);
        Thread.Sleep(1000);
        return curl.Output.Contains("curl-done 0", StringComparison.Ordinal);
    }

    // Why downloads stalled: per real server its links, addresses, nft ruleset, and the restarted agent's log and
    // counters (it prints them when stopped); the director's per-real-server counters.
    private static string Diagnose(HardeningLab lab, List<BackgroundProcess> agents, string[] files)
    {
        var w = new System.Text.StringBuilder();
        w.AppendLine("incomplete files (bytes, -1 = never started): " +
            string.Join(" ", files.Select(f => File.Exists(f) ? new FileInfo(f).Length : -1).Where(n => n != LabServices.BlobSize)));
        for (int i = 0; i < StandardLab.RealServers.Count; i++)
        {
            string role = StandardLab.RealServers[i].Role;
            string Run(params string[] cmd) => $"$ {string.Join(' ', cmd)}\n{lab.T.Try(role, 30_000, cmd).Stdout}";
            w.AppendLine($"=== {role}");
            w.Append(Run("ip", "-d", "-s", "link", "show"));
            w.Append(Run("ip", "addr", "show"));
            w.Append(Run("nft", "list", "ruleset"));
            agents[i].Stop(15, 10_000);
            w.AppendLine("agent: " + agents[i].Output);
        }
        try { w.AppendLine("director: " + lab.Api("/api/v1/services")); } catch (Exception e) { w.AppendLine("director API: " + e.Message); }
        return w.ToString();
    }

    // The download port's TCP sockets in one namespace (state, timers, backoff, bytes) and the counters that tell where
    // a handshake or segment was dropped (accept queue overflows, SYN cookies, resets, routes, checksums).
    private static string Sockets(HardeningLab lab, string role, string port)
    {
        string Run(params string[] cmd) => $"$ {string.Join(' ', cmd)}\n{lab.T.Try(role, 30_000, cmd).Stdout}";
        return $"=== {role}\n" + Run("ss", "-tnoi", "state", "all", $"( {port} = :{HardeningLab.KeepAlivePort} )") +
            Run("nstat", "-asz", "TcpExtListenOverflows", "TcpExtListenDrops", "TcpExtSyncookiesSent", "TcpExtSyncookiesRecv",
                "TcpExtSyncookiesFailed", "TcpExtTCPReqQFullDrop", "TcpExtTCPWinProbe", "TcpExtTCPTimeouts", "TcpRetransSegs",
                "TcpExtTCPSynRetrans", "TcpOutRsts", "TcpEstabResets", "TcpInErrs", "TcpInCsumErrors", "TcpExtTCPBacklogDrop",
                "TcpExtIPReversePathFilter", "IpInDiscards", "IpOutNoRoutes", "IpInUnknownProtos", "IcmpOutDestUnreachs");
    }

    private static string Tail(string s, int n) => s.Length <= n ? s : s[^n..];

    private static string Sha(string f) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(f)));
}
