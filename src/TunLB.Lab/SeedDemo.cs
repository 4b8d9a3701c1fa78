using System.Diagnostics;
using System.Runtime.InteropServices;

namespace TunLB.Lab;

/// <summary>
/// `tunlb lab demo --topology seed`: builds <see cref="SeedLab"/>, shows the router's multipath route built from the
/// directors' announcements, spreads requests over every director and real server, runs the egress check from each
/// datacenter, kills one director with SIGKILL and silences another during rate-limited downloads (how long the router
/// took to drop each; whether the downloads finished intact), brings both back, shows the fleet view, and removes
/// everything (also on Ctrl-C).
/// </summary>
public static class SeedDemo
{
    public const int Requests = 120;
    public const int Downloads = 150;
    public const string DownloadRate = "40k"; // 400 kB at 40 kB/s: about 10 s, so both failures happen mid-download

    public static int Run(TextWriter o) => Run(o, LabServices.SelfCommand()).Ok ? 0 : 1;

    public static SeedDemoResult Run(TextWriter o, string[] tunlb)
    {
        var res = new SeedDemoResult { Prefix = Topology.NewPrefix() };
        res.WorkDir = Path.Combine(Path.GetTempPath(), res.Prefix + "seed");
        SeedLab? lab = null;
        var gate = new object();
        bool keep = Environment.GetEnvironmentVariable("TUNLB_LAB_KEEP") == "1";
        void Cleanup()
        {
            // One thread at a time: a signal's cleanup and the main thread's must not remove the same things at once.
            lock (gate)
            {
                lab?.Topology.Dispose();
                lab = null;
                if (!keep) try { Directory.Delete(res.WorkDir, true); } catch (IOException) { }
            }
        }
        void OnSignal(PosixSignalContext ctx, int code)
        {
            ctx.Cancel = true;
            o.WriteLine("\ninterrupted: removing the lab");
            Cleanup();
            Environment.Exit(code);
        }
        using var intReg = PosixSignalRegistration.Create(PosixSignal.SIGINT, ctx => OnSignal(ctx, 130));
        using var termReg = PosixSignalRegistration.Create(PosixSignal.SIGTERM, ctx => OnSignal(ctx, 143));
        try
        {
            Prerequisites.Ensure(o);
            if (!Sh.Exists("bird")) throw new InvalidOperationException("the seed lab needs BIRD 2 (apt-get install bird2)");
            o.WriteLine("TunLB seed lab demo: 3 directors, 12 real servers in 5 datacenters");
            o.WriteLine($"  building namespaces {res.Prefix}*");
            lab = SeedLab.Build(res.Prefix);
            var t = lab.Topology;
            var svc = new SeedServices(lab, LabLauncher.Owned(t), tunlb, res.WorkDir);
            svc.StartAll(o);
            Announce(o, t, res);
            Spread(o, t, res);
            SeedEgress.Run(o, t, tunlb, res);
            Failover(o, t, svc, res);
            Fleet(o, t, tunlb, res);
            Verdict(o, res);
        }
        catch (Exception e)
        {
            res.Problems.Add($"lab demo failed: {e.Message}");
            o.WriteLine($"lab demo failed: {e}");
        }
        finally
        {
            Cleanup();
            o.WriteLine(keep ? $"  lab removed; configs kept in {res.WorkDir}" : "  lab removed");
        }
        return res;
    }

    private static void Announce(TextWriter o, Topology t, SeedDemoResult res)
    {
        var all = SeedLab.Directors.Select(d => d.Address).ToList();
        res.AnnouncedMs = SeedProbe.Until(t, h => h.SequenceEqual(all), 60_000);
        res.InitialRoute = SeedProbe.RouterRoute(t);
        res.InitialNexthops = SeedProbe.NexthopsOf(res.InitialRoute);
        o.WriteLine($"\n  The router's route to the VIP, learned over BGP from the directors' BIRDs ({res.AnnouncedMs} ms after the last director was ready):");
        foreach (var line in res.InitialRoute.Split('\n')) o.WriteLine("    " + line.Trim());
        if (res.AnnouncedMs < 0) res.Problems.Add($"no 3-way route on the router: {res.InitialRoute}");
        else if (!res.InitialRoute.Contains("proto bird", StringComparison.Ordinal)) res.Problems.Add("the VIP route is not BIRD's");
    }

    private static void Spread(TextWriter o, Topology t, SeedDemoResult res)
    {
        var before = SeedProbe.Scheduled(t);
        var (curl, files) = SeedProbe.StartTransfers(t, Path.Combine(res.WorkDir, "spread"), "/", Requests, null, 20);
        curl.WaitForExit(40_000);
        res.Requests = Requests;
        foreach (var f in files)
        {
            var who = File.Exists(f) ? File.ReadAllText(f).Trim() : "";
            who = who.Length == 0 ? "failed" : who;
            res.AnsweredBy[who] = res.AnsweredBy.GetValueOrDefault(who) + 1;
        }
        var after = SeedProbe.Scheduled(t);
        res.ScheduledPerDirector = SeedLab.Directors.ToDictionary(d => d.Role,
            d => after.PerDirector.GetValueOrDefault(d.Role) - before.PerDirector.GetValueOrDefault(d.Role));
        res.ScheduledPerReal = SeedLab.RealServers.ToDictionary(r => r.Role,
            r => after.PerReal.GetValueOrDefault(r.Role) - before.PerReal.GetValueOrDefault(r.Role));
        o.WriteLine($"\n  {Requests} requests from {SeedLab.Client}, one connection (and client port) each:");
        o.WriteLine("    per director (connections it scheduled, from its API):  " +
            string.Join("  ", res.ScheduledPerDirector.Select(kv => $"{kv.Key} {kv.Value}")));
        foreach (var dc in SeedLab.Datacenters)
            o.WriteLine($"    {dc.Name,-24} " + string.Join("  ", SeedLab.RealServers.Where(r => r.Datacenter == dc)
                .Select(r => $"{r.Role} {res.AnsweredBy.GetValueOrDefault(r.Role)} answered / {res.ScheduledPerReal[r.Role]} scheduled")));
        if (res.AnsweredBy.GetValueOrDefault("failed") > 0) o.WriteLine($"    failed: {res.AnsweredBy["failed"]}");
        var silentDirectors = res.ScheduledPerDirector.Where(kv => kv.Value == 0).Select(kv => kv.Key).ToList();
        var silentReals = SeedLab.RealServers.Where(r => !res.AnsweredBy.ContainsKey(r.Role)).Select(r => r.Role).ToList();
        if (silentDirectors.Count > 0) res.Problems.Add("directors that scheduled nothing: " + string.Join(' ', silentDirectors));
        if (silentReals.Count > 0) res.Problems.Add("real servers that answered nothing: " + string.Join(' ', silentReals));
    }

    private static void Failover(TextWriter o, Topology t, SeedServices svc, SeedDemoResult res)
    {
        SeedDirector killed = SeedLab.Directors[0], silent = SeedLab.Directors[1];
        o.WriteLine($"\n  {Downloads} downloads of {SeedServices.BlobSize / 1024} kB at {DownloadRate}B/s each, in parallel:");
        var dir = Path.Combine(res.WorkDir, "downloads");
        var (curl, files) = SeedProbe.StartTransfers(t, dir, "/blob", Downloads, DownloadRate, 60);
        using var monitor = RouteMonitor.Start(t, "rt", SeedLab.Vip);
        Thread.Sleep(3000);
        o.WriteLine($"    kill -9 {killed.Role} (its BIRD runs on)");
        var survivors = SeedLab.Directors.Where(d => d != killed).Select(d => d.Address).ToList();
        var at = DateTime.Now;
        System.Diagnostics.Process.GetProcessById(svc.Directors[killed.Role].Pid!.Value).Kill(); // SIGKILL, no process start
        var (ms, states) = SeedProbe.Watch(t, h => h.SequenceEqual(survivors), 10_000);
        res.KillDroppedMs = ms < 0 ? -1 : monitor.MsUntil(at, survivors);
        res.RouteStates.Add("kill: " + string.Join(" -> ", states));
        o.WriteLine($"    the router's route became {string.Join(", ", survivors)} {res.KillDroppedMs} ms after the SIGKILL (ip monitor)");
        Thread.Sleep(1500);
        o.WriteLine($"    {silent.Role} goes silent (drops every packet; process, BIRD and link stay up)");
        survivors.Remove(silent.Address);
        at = DateTime.Now; // before nft starts: includes the time nft takes to put the filter in place
        SeedProbe.Silence(t, silent, true);
        (ms, states) = SeedProbe.Watch(t, h => h.SequenceEqual(survivors), 10_000);
        res.SilentDroppedMs = ms < 0 ? -1 : monitor.MsUntil(at, survivors);
        res.RouteStates.Add("silent: " + string.Join(" -> ", states));
        o.WriteLine($"    the router's route became {string.Join(", ", survivors)} {res.SilentDroppedMs} ms after nft was started (BFD)");
        var gaps = monitor.Changes().Count(c => c.Deleted);
        if (gaps > 0) o.WriteLine($"    (the route was deleted and re-added {gaps} times on the way)");

        curl.WaitForExit(70_000);
        res.Downloads = Downloads;
        res.DownloadsIntact = SeedProbe.Intact(files, svc.BlobSha256);
        o.WriteLine($"    downloads finished byte-exact (size and sha256): {res.DownloadsIntact} of {Downloads}");
        if (res.KillDroppedMs is < 0 or > 1000) res.Problems.Add($"the router dropped the killed director after {res.KillDroppedMs} ms");
        if (res.SilentDroppedMs is < 0 or > 1000) res.Problems.Add($"the router dropped the silent director after {res.SilentDroppedMs} ms");
        if (res.DownloadsIntact * 100 < Downloads * 99) res.Problems.Add($"only {res.DownloadsIntact} of {Downloads} downloads intact");

        o.WriteLine("\n  Bringing them back:");
        survivors.Add(silent.Address);
        survivors.Sort(StringComparer.Ordinal);
        at = DateTime.Now;
        SeedProbe.Silence(t, silent, false);
        res.SilentBackMs = SeedProbe.Until(t, h => h.Contains(silent.Address), 30_000) < 0 ? -1 : monitor.MsUntil(at, survivors);
        o.WriteLine($"    {silent.Role} answers again: back in the route {res.SilentBackMs} ms after its filter went (BFD up, BGP reconnects after `error wait time 2`)");
        at = DateTime.Now;
        svc.StartDirector(killed);
        var all = SeedLab.Directors.Select(d => d.Address).ToList();
        res.KilledBackMs = SeedProbe.Until(t, h => h.Contains(killed.Address), 30_000) < 0 ? -1 : monitor.MsUntil(at, all);
        o.WriteLine($"    {killed.Role} restarted: re-announced {res.KilledBackMs} ms after its start (process start, checks, BIRD, BGP): {Hops(t)}");
        if (res.SilentBackMs < 0 || res.KilledBackMs < 0) res.Problems.Add("a director did not come back into the router's route");
    }

    private static string Hops(Topology t)
    {
        var h = SeedProbe.Nexthops(t);
        return h.Count == 0 ? "no route" : "next hops " + string.Join(", ", h);
    }

    private static void Fleet(TextWriter o, Topology t, string[] tunlb, SeedDemoResult res)
    {
        var (partitioned, _) = SeedFleet.MakeDisagreement(o, t, tunlb);
        var r = SeedFleet.ClusterView(t, tunlb);
        res.ClusterExit = r.ExitCode;
        res.ClusterView = r.Stdout + r.Stderr;
        o.WriteLine($"\n  One view over the fleet (tunlb adm -L -n --cluster ..., run on the router):");
        foreach (var line in res.ClusterView.TrimEnd().Split('\n')) o.WriteLine("    " + line);
        if (r.ExitCode != 0) res.Problems.Add($"tunlb adm --cluster exited {r.ExitCode}");
        if (!res.ClusterView.Contains(partitioned, StringComparison.Ordinal)) res.Problems.Add("the fleet view does not name the partitioned real server");
    }

    private static void Verdict(TextWriter o, SeedDemoResult res)
    {
        o.WriteLine();
        if (res.Ok)
            o.WriteLine("  OK: 3-way ECMP from the directors' announcements, every director and real server served, failed directors " +
                        "left the route within a second and the downloads in flight finished intact, the egress check named the filtering datacenter.");
        else
            foreach (var p in res.Problems) o.WriteLine("  PROBLEM: " + p);
    }
}
