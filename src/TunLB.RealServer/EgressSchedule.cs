using System.Net.Http.Headers;
using System.Net.Http.Json;
using TunLB.Control.Api;
using TunLB.Control.Configuration;
using TunLB.Control.Egress;
using TunLB.Core.Egress;
using TunLB.Core.Flows;
using TunLB.Linux;
using TunLB.Linux.Egress;

namespace TunLB.RealServer;

/// <summary>
/// The agent's egress check on a schedule (<c>[egress]</c> in realserver.toml, off by default): every
/// <see cref="EgressScheduleConfig.IntervalSeconds"/> (the first run after a random delay within one interval, so a
/// fleet restarted together does not probe together) it runs the same probes as `tunlb egress-check`, fetches the
/// VIP answers from the director API and posts the result to <c>POST /api/v1/egress/results</c>.
/// </summary>
public sealed class EgressSchedule : IDisposable
{
    private readonly EgressScheduleConfig _cfg;
    private readonly TextWriter _log;
    private readonly HttpClient _http;
    private readonly Uri _base;
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread _thread;

    /// <summary>Results posted since start (for tests and the log).</summary>
    public int Posted;

    private EgressSchedule(EgressScheduleConfig cfg, TextWriter log, TimeSpan firstDelay)
    {
        _cfg = cfg;
        _log = log;
        _base = new Uri(cfg.Director);
        _http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        if (!string.IsNullOrEmpty(cfg.Token)) _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", cfg.Token);
        _thread = new Thread(() => Loop(firstDelay)) { IsBackground = true, Name = "tunlb-egress" };
        _thread.Start();
    }

    /// <summary>Starts the schedule when configured (interval set), else returns null.</summary>
    public static EgressSchedule? StartIfEnabled(RealServerConfig cfg, TextWriter log, TimeSpan? firstDelay = null)
    {
        if (cfg.Egress is not { IntervalSeconds: > 0 } e) return null;
        return new EgressSchedule(e, log, firstDelay ?? TimeSpan.FromSeconds(Random.Shared.Next(0, e.IntervalSeconds)));
    }

    public string Describe() => $"egress check every {_cfg.IntervalSeconds} s toward {_cfg.Target}, results to {_cfg.Director}";

    private void Loop(TimeSpan firstDelay)
    {
        if (_stop.Token.WaitHandle.WaitOne(firstDelay)) return;
        do
        {
            try { RunOnce(); }
            catch (Exception e) { _log.WriteLine($"egress check: {e.Message}"); }
        }
        while (!_stop.Token.WaitHandle.WaitOne(TimeSpan.FromSeconds(_cfg.IntervalSeconds)));
    }

    /// <summary>One check and its report. Returns the posted report.</summary>
    public EgressResultReport RunOnce()
    {
        var vip = _cfg.Vip ?? throw new InvalidOperationException("no VIP to check");
        IpAddress control, self;
        using (var host = new HostNetwork())
        {
            control = host.SourceAddressToward(_cfg.Target);
            self = _cfg.Address ?? host.SourceAddressToward(IpAddress.Parse(_base.Host.Trim('[', ']')));
        }
        var session = EgressSessionId.NewRandom();
        var plan = new EgressProbePlan(vip, control, _cfg.Target, session, _cfg.MaxHops, 2, _cfg.Rate, TimeSpan.FromSeconds(3));
        var answersUrl = new Uri(_base, $"{EgressApi.AnswersPath}?session={session}");
        var outcome = EgressProber.Run(plan, () =>
            (_http.GetFromJsonAsync<List<EgressAnswerDto>>(answersUrl, ApiJson.Options).GetAwaiter().GetResult() ?? []).Select(d => d.ToAnswer()).ToList());
        var r = EgressVerdict.Decide(vip, control, _cfg.Target, outcome.VipAnswers.Concat(outcome.ControlAnswers));
        string summary = r.Kind switch
        {
            EgressVerdictKind.Allowed => $"ALLOWED ({r.Hops} hops)",
            EgressVerdictKind.Blocked => $"BLOCKED AT HOP {r.BlockingHop} ({EgressVerdict.Fmt(r.BlockingRouter)})",
            _ => "INCONCLUSIVE",
        };
        var report = new EgressResultReport(self.ToString(), vip.ToString(), _cfg.Target.ToString(), r.Kind.ToString().ToLowerInvariant(), summary,
            r.Kind == EgressVerdictKind.Blocked ? r.BlockingHop : null,
            r.Kind == EgressVerdictKind.Blocked ? EgressVerdict.Fmt(r.BlockingRouter) : null,
            r.Kind == EgressVerdictKind.Blocked ? EgressLocalisation.Range(r) : null, DateTimeOffset.UtcNow);
        using var resp = _http.PostAsJsonAsync(new Uri(_base, "/api/v1/egress/results"), report, ApiJson.Options).GetAwaiter().GetResult();
        if (!resp.IsSuccessStatusCode)
            throw new InvalidOperationException($"the director refused the result: HTTP {(int)resp.StatusCode} {resp.Content.ReadAsStringAsync().GetAwaiter().GetResult()}");
        Interlocked.Increment(ref Posted);
        _log.WriteLine($"egress check: {summary} (VIP {vip} toward {_cfg.Target}); reported to {_cfg.Director}");
        return report;
    }

    public void Dispose()
    {
        _stop.Cancel();
        _thread.Join(5000);
        _http.Dispose();
    }
}
