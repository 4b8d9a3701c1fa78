using System.Diagnostics;
using System.Text.Json;
using PuppeteerSharp;
using TunLB.Lab;
using Xunit.Abstractions;

namespace TunLB.EndToEnd.Tests;

/// <summary>
/// The status page in headless Chromium (Debian's chromium, driven by PuppeteerSharp), in a lab with one director and
/// three real servers checked over HTTP, behind nginx under the path prefix /lb/.
/// </summary>
[Collection("health")]
public sealed class StatusPageTests(ITestOutputHelper output) : IDisposable
{
    private const double Interval = 1.0;
    private const int Fall = 2;
    private const string Token = "page-test-token";
    private const string Chromium = "/usr/bin/chromium";
    private readonly List<IDisposable> _cleanup = [];

    private static string Config => $$"""
        [director]
        api = "127.0.0.1:9400"
        api_token = "{{Token}}"
        check_port_range = "61100-61199"

        [[service]]
        vip = "{{StandardLab.Vip}}"
        port = 80
        scheduler = "wlc"

        [service.check]
        type = "http"
        path = "/index.html"
        interval = {{Interval:0.0}}
        timeout = 0.5
        rise = 2
        fall = {{Fall}}
        {{string.Concat(StandardLab.RealServers.Select(r => $"\n[[service.real]]\naddress = \"{r.Address}\"\n"))}}
        """;

    public void Dispose()
    {
        for (int i = _cleanup.Count - 1; i >= 0; i--) { try { _cleanup[i].Dispose(); } catch { } }
    }

    [Fact]
    public async Task PageShowsRealsGoingDownLiveAndDrainsOnlyWithTheToken()
    {
        if (!File.Exists(Chromium)) { output.WriteLine("chromium is not installed (apt-get install chromium): skipped"); return; }
        var prefix = Topology.NewPrefix();
        var work = Path.Combine(Path.GetTempPath(), prefix + "page");
        var lab = StandardLab.Build(prefix);
        _cleanup.Add(new Cleanup(() => { lab.Topology.Dispose(); try { Directory.Delete(work, true); } catch { } }));
        var t = lab.Topology;
        var services = new LabServices(lab, Tunlb.Command(), work);
        services.StartRealServers(http: false);
        var http = new Dictionary<string, BackgroundProcess>();
        foreach (var rs in StandardLab.RealServers) http[rs.Role] = StartHttp(t, work, rs.Role);
        services.StartDirector(Config);

        // nginx in the director's namespace serves the page under /lb/; the relay brings it to this namespace.
        string pageUrl;
        if (Sh.Exists("nginx"))
        {
            StartNginx(t, work);
            var relay = new NamespaceRelay(t.Ns("director"), 8480);
            _cleanup.Add(relay);
            pageUrl = $"http://127.0.0.1:{relay.Port}/lb/";
        }
        else
        {
            output.WriteLine("nginx is not installed: the page is opened without a reverse proxy");
            var relay = new NamespaceRelay(t.Ns("director"), 9400);
            _cleanup.Add(relay);
            pageUrl = $"http://127.0.0.1:{relay.Port}/";
        }

        await using var browser = await Puppeteer.LaunchAsync(new LaunchOptions
        {
            Headless = true, ExecutablePath = Chromium,
            Args = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--no-first-run"],
        });
        await using var page = await browser.NewPageAsync();
        await page.SetViewportAsync(new ViewPortOptions { Width = 1500, Height = 1100 });
        var response = await page.GoToAsync(pageUrl);
        Assert.True(response.Ok, $"GET {pageUrl}: {response.Status}");

        // Three reals UP (the checks need rise = 2 successes; the page updates itself, it is never reloaded).
        Assert.True(await Until(page, "document.querySelectorAll('tr[data-state=\"UP\"]').length === 3", 20_000),
            $"not three UP: {await States(page)}\n{services.Director!.Output}");

        // rs2's HTTP server stops: DOWN within interval x fall + 2 s, without a reload, and the event is in the log panel.
        http["rs2"].Stop(9, 2000);
        var sw = Stopwatch.StartNew();
        bool down = await Until(page, "(document.querySelector('tr[data-real=\"192.0.2.12:80\"]')||{dataset:{}}).dataset.state === 'DOWN'", 15_000);
        double took = sw.Elapsed.TotalSeconds;
        output.WriteLine($"rs2 shown DOWN {took:0.00} s after its HTTP server stopped (limit {Interval * Fall + 2} s)");
        Assert.True(down, $"rs2 never shown DOWN: {await States(page)}");
        Assert.True(took <= Interval * Fall + 2, $"rs2 shown DOWN after {took:0.00} s");
        Assert.True(await Until(page, "[...document.querySelectorAll('#events li.health')].some(li => li.textContent.includes('192.0.2.12:80') && li.textContent.includes('DOWN'))", 3_000),
            "the DOWN event is not in the log panel: " + await page.EvaluateExpressionAsync<string>("document.getElementById('events').innerText"));
        Assert.Equal("live", await page.EvaluateExpressionAsync<string>("document.getElementById('live-state').textContent"));

        // Drain without the token: refused, nothing changes.
        await Click(page, "tr[data-real=\"192.0.2.11:80\"] button[data-op=drain]");
        Assert.True(await Until(page, "document.getElementById('msg').textContent.includes('refused (401)')", 5_000),
            "no refusal shown: " + await page.EvaluateExpressionAsync<string>("document.getElementById('msg').textContent"));
        Assert.False(Draining(t, "192.0.2.11"));
        // With the token: draining, on the director and on the page.
        await page.TypeAsync("#token", Token);
        await Click(page, "tr[data-real=\"192.0.2.11:80\"] button[data-op=drain]");
        Assert.True(await Until(page, "(document.querySelector('tr[data-real=\"192.0.2.11:80\"]')||{dataset:{}}).dataset.state === 'DRAIN'", 5_000),
            $"not shown draining: {await States(page)}");
        Assert.True(Draining(t, "192.0.2.11"));
        Assert.True(await Until(page, "[...document.querySelectorAll('#events li.drain')].some(li => li.textContent.includes('192.0.2.11:80'))", 3_000));

        // Some client traffic and a few history samples so the graphs show lines, then the screenshot for docs/status-page.md.
        var load = t.Start("client", "page-load", "sh", "-c",
            $"for i in $(seq 1 60); do curl -s -o /dev/null --max-time 1 http://{StandardLab.Vip}/index.html; sleep 0.1; done");
        _cleanup.Add(load);
        await Until(page, "document.querySelectorAll('svg polyline').length > 0", 8_000);
        await Task.Delay(6_000);
        var shot = Path.Combine(Tunlb.RepoRoot(), "docs", "images", "status-page.png");
        Directory.CreateDirectory(Path.GetDirectoryName(shot)!);
        await page.ScreenshotAsync(shot, new ScreenshotOptions { FullPage = true });
        output.WriteLine($"screenshot: {shot}");
    }

    [Fact]
    public void PageWithoutScriptsHasTheCompleteTable()
    {
        var prefix = Topology.NewPrefix();
        var work = Path.Combine(Path.GetTempPath(), prefix + "page");
        var lab = StandardLab.Build(prefix);
        _cleanup.Add(new Cleanup(() => { lab.Topology.Dispose(); try { Directory.Delete(work, true); } catch { } }));
        var t = lab.Topology;
        var services = new LabServices(lab, Tunlb.Command(), work);
        services.StartRealServers(http: false);
        foreach (var rs in StandardLab.RealServers) StartHttp(t, work, rs.Role);
        services.StartDirector(Config);
        bool nginx = Sh.Exists("nginx");
        if (nginx) StartNginx(t, work);

        string html = "";
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed.TotalSeconds < 20)
        {
            html = t.Try("director", 10_000, "curl", "-s", "--max-time", "5", nginx ? "http://127.0.0.1:8480/lb/" : "http://127.0.0.1:9400/").Stdout;
            if (CountUp(html) == 3) break;
            Thread.Sleep(500);
        }
        Assert.Equal(3, CountUp(html));
        foreach (var rs in StandardLab.RealServers) Assert.Contains($"data-real=\"{rs.Address}:80\"", html);
        foreach (var column in new[] { "state", "weight", "active", "inactive", "new conn/s", "pkt/s in", "bytes/s in", "last check", "failed", "down for", "encap", "path MTU" })
            Assert.Contains($"<th>{column}</th>", html);
        Assert.Contains("203.0.113.10:80/tcp", html);
        Assert.Contains("<h2>Director</h2>", html);
        Assert.EndsWith("</html>", html.TrimEnd());
        // Reading needs no token; changing does (401 without it, through the proxy as directly).
        var refused = t.Try("director", 10_000, "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST",
            "http://127.0.0.1:9400/api/v1/services/tcp/203.0.113.10/80/reals/192.0.2.11/80/drain");
        Assert.Equal("401", refused.Stdout.Trim());
    }

    private static int CountUp(string html) => html.Split("data-state=\"UP\"").Length - 1;

    private static BackgroundProcess StartHttp(Topology t, string work, string role)
    {
        var root = Path.Combine(work, "www-" + role);
        Directory.CreateDirectory(root);
        File.WriteAllText(Path.Combine(root, "index.html"), role + "\n");
        var web = t.Start(role, $"http-{role}-{Environment.TickCount64}", "python3", "-u", "-m", "http.server", "80", "--bind", StandardLab.Vip, "--directory", root);
        if (!web.WaitForOutput("Serving HTTP", LabServices.StartTimeoutMs)) throw new InvalidOperationException($"HTTP on {role} did not start:\n{web.Output}");
        return web;
    }

    /// <summary>nginx in the director's namespace: 127.0.0.1:8480/lb/ proxies to the API at 127.0.0.1:9400/.</summary>
    private static void StartNginx(Topology t, string work)
    {
        var dir = Path.Combine(work, "nginx");
        Directory.CreateDirectory(dir);
        var conf = Path.Combine(dir, "nginx.conf");
        File.WriteAllText(conf, $$"""
            pid {{dir}}/nginx.pid;
            error_log {{dir}}/error.log;
            events {}
            http {
              access_log off;
              client_body_temp_path {{dir}}/body; proxy_temp_path {{dir}}/proxy; fastcgi_temp_path {{dir}}/fcgi;
              uwsgi_temp_path {{dir}}/uwsgi; scgi_temp_path {{dir}}/scgi;
              server {
                listen 127.0.0.1:8480;
                location /lb/ {
                  proxy_pass http://127.0.0.1:9400/;
                  proxy_http_version 1.1;
                  proxy_set_header Connection "";
                  proxy_buffering off;
                  proxy_read_timeout 1h;
                }
              }
            }
            """);
        var p = t.Start("director", "nginx", "nginx", "-c", conf, "-p", dir, "-g", "daemon off;");
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed.TotalSeconds < 60 && !p.HasExited && t.Try("director", 5_000, "curl", "-s", "-o", "/dev/null", "http://127.0.0.1:8480/lb/").ExitCode != 0) Thread.Sleep(200);
        if (p.HasExited) throw new InvalidOperationException("nginx did not start: " + p.Output);
    }

    private static bool Draining(Topology t, string addr)
    {
        var r = t.Try("director", 10_000, "curl", "-s", "-H", $"Authorization: Bearer {Token}", "http://127.0.0.1:9400/api/v1/health");
        var reals = JsonDocument.Parse(r.Stdout).RootElement.GetProperty("services")[0].GetProperty("reals");
        return reals.EnumerateArray().First(x => x.GetProperty("address").GetString() == addr).GetProperty("health").GetProperty("draining").GetBoolean();
    }

    private static async Task<string> States(IPage page) =>
        await page.EvaluateExpressionAsync<string>("[...document.querySelectorAll('tr[data-real]')].map(r => r.dataset.real + '=' + r.dataset.state).join(' ')");

    /// <summary>
    /// A mouse click on <paramref name="selector"/>. The page redraws its table on every update, so the button Puppeteer
    /// found can be replaced before it scrolls to it ("Node is detached from document", thrown before any click is
    /// sent); then the new button is looked up again, as a user's pointer would simply land on it.
    /// </summary>
    private static async Task Click(IPage page, string selector)
    {
        for (int attempt = 1; ; attempt++)
        {
            try { await page.ClickAsync(selector); return; }
            catch (PuppeteerException e) when (attempt < 5 && e.Message.Contains("detached", StringComparison.Ordinal)) { await Task.Delay(50); }
        }
    }

    private static async Task<bool> Until(IPage page, string js, int timeoutMs)
    {
        var sw = Stopwatch.StartNew();
        while (sw.ElapsedMilliseconds < timeoutMs)
        {
            if (await page.EvaluateExpressionAsync<bool>(js)) return true;
            await Task.Delay(50);
        }
        return await page.EvaluateExpressionAsync<bool>(js);
    }

    private sealed class Cleanup(Action a) : IDisposable
    {
        public void Dispose() => a();
    }
}
