using System.Diagnostics;
using TunLB.Lab;
using Xunit.Abstractions;

namespace TunLB.EndToEnd.Tests.Hardening;

/// <summary>100 reloads in 10 s (SIGHUP and the API, every fifth with a broken file) while wrk runs through the VIP.</summary>
public sealed class ReloadStormTests(ITestOutputHelper output)
{
    [Fact]
    public void NoRequestFailsMemoryStaysFlatAndTheLastGoodConfigHolds()
    {
        using var lab = new HardeningLab();
        string good1 = HardeningLab.Config("wrr", "");
        // The second good file changes rs3's weight on both services: a real change for every reload that loads it.
        string good2 = good1.Replace("address = \"192.0.2.131\"\nweight = 1", "address = \"192.0.2.131\"\nweight = 3")
                            .Replace("address = \"192.0.2.131\"\n\n", "address = \"192.0.2.131\"\nweight = 3\n\n");
        Assert.NotEqual(good1, good2);
        string broken = good1.Replace("scheduler = \"wrr\"", "scheduler = \"wrr\"\nwieght = 1");
        var d = lab.StartDirector(good1);
        var t = lab.T;
        Assert.Equal(0, t.Try("client", 30_000, "curl", "-sf", "-o", "/dev/null", $"http://{StandardLab.Vip}:{HardeningLab.KeepAlivePort}/index.html").ExitCode);
        Thread.Sleep(1000);
        long rssBefore = HardeningLab.RssKiB(d.Pid);

        var wrk = lab.StartWrk(13, connections: 8);
        Thread.Sleep(1000);
        int sighups = 0, apiOk = 0, apiFailed = 0, brokenWrites = 0;
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < 100; i++)
        {
            bool isBroken = i % 5 == 4;
            File.WriteAllText(lab.ConfigPath, isBroken ? broken : i % 2 == 0 ? good1 : good2);
            if (isBroken) brokenWrites++;
            if (i % 2 == 0)
            {
                Sh.Run("kill", ["-HUP", d.Pid.ToString()]);
                sighups++;
            }
            else
            {
                var r = t.Try("director", 10_000, "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", "http://127.0.0.1:9400/api/v1/reload");
                if (r.Stdout.Trim() == "200") apiOk++; else { apiFailed++; if (!isBroken) output.WriteLine($"API reload of a good file: [{r.Stdout}] {r.Stderr}"); }
            }
            long due = (i + 1) * 100L;
            if (sw.ElapsedMilliseconds < due) Thread.Sleep((int)(due - sw.ElapsedMilliseconds));
        }
        double stormSeconds = sw.Elapsed.TotalSeconds;
        // The last file written is good2 (i = 98 is good, i = 99 broken: the last good one is i = 98's, good1).
        Assert.True(wrk.WaitForOutput("requests in", 30_000), wrk.Output);
        Thread.Sleep(500);
        long rssAfter = HardeningLab.RssKiB(d.Pid);
        var (requests, errors, non2xx) = HardeningLab.ParseWrk(wrk.Output);
        var metrics = t.Try("director", 10_000, "curl", "-s", "http://127.0.0.1:9400/metrics").Stdout;
        var services = lab.Api("/api/v1/services");

        output.WriteLine($"100 reloads in {stormSeconds:0.0} s: {sighups} SIGHUP, API {apiOk} ok / {apiFailed} refused, {brokenWrites} broken files");
        output.WriteLine($"wrk: {requests} requests, {errors} socket errors, {non2xx} non-2xx");
        output.WriteLine($"rss: {rssBefore} KiB -> {rssAfter} KiB ({rssAfter - rssBefore:+0;-0} KiB)");
        output.WriteLine(string.Join("\n", metrics.Split('\n').Where(l => l.StartsWith("tunlb_config_reload"))));

        Assert.True(stormSeconds <= 12, $"the storm took {stormSeconds} s");
        Assert.True(requests > 1000, wrk.Output);
        Assert.Equal(0, errors);
        Assert.Equal(0, non2xx);
        Assert.Equal(10, apiFailed);                           // the API refuses each broken file it is asked to load ...
        Assert.Equal(40, apiOk);
        Assert.Contains("tunlb_config_last_reload_successful 0", metrics);   // ... the last reload (i = 99) was broken
        Assert.True(rssAfter - rssBefore < 64 * 1024, $"RSS grew by {rssAfter - rssBefore} KiB");
        // The last good file (i = 98: good1) is in force: every real at weight 1.
        foreach (var svc in services.EnumerateArray())
            foreach (var real in svc.GetProperty("reals").EnumerateArray())
                Assert.Equal(1, real.GetProperty("weight").GetInt32());
        Assert.False(d.HasExited);
    }
}
