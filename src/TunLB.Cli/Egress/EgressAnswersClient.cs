using System.Net.Http.Headers;
using System.Text.Json;
using TunLB.Control.Api;
using TunLB.Control.Egress;
using TunLB.Core.Egress;

namespace TunLB.Cli.Egress;

/// <summary>Fetches a session's answers from a listener (`tunlb egress-listen` or a TunLB director's API).</summary>
public sealed class EgressAnswersClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly Uri _url;

    public EgressAnswersClient(string listener, EgressSessionId session, string? token)
    {
        if (!Uri.TryCreate(listener.Contains("://") ? listener : "http://" + listener, UriKind.Absolute, out var baseUri) || baseUri.Scheme is not ("http" or "https"))
            throw new ArgumentException($"--listener {listener}: expected http://HOST:PORT");
        _url = new Uri(baseUri, $"{EgressApi.AnswersPath}?session={session}");
        // 10 s, not 3: a director's first answers (its API's code paths still to be compiled) took over 3 s on a loaded
        // 2-core machine, and the check then failed with "the listener does not answer" or "could not report".
        _http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        if (!string.IsNullOrEmpty(token)) _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
    }

    public Uri Url => _url;

    /// <summary>GET the answers; throws with a readable message on HTTP or JSON errors.</summary>
    public IReadOnlyList<EgressAnswerDto> Fetch()
    {
        using var resp = _http.Send(new HttpRequestMessage(HttpMethod.Get, _url));
        using var stream = resp.Content.ReadAsStream();
        if (!resp.IsSuccessStatusCode)
        {
            string text = new StreamReader(stream).ReadToEnd();
            throw new InvalidOperationException($"{_url}: HTTP {(int)resp.StatusCode} {text.Trim()}");
        }
        return JsonSerializer.Deserialize<List<EgressAnswerDto>>(stream, ApiJson.Options) ?? [];
    }

    /// <summary>POST a result to the director (<c>/api/v1/egress/results</c>); throws with a readable message when refused.</summary>
    public void Post(EgressResultReport report)
    {
        var url = new Uri(_url, "/api/v1/egress/results");
        var body = new StringContent(JsonSerializer.Serialize(report, ApiJson.Options), System.Text.Encoding.UTF8, "application/json");
        using var resp = _http.Send(new HttpRequestMessage(HttpMethod.Post, url) { Content = body });
        if (!resp.IsSuccessStatusCode)
            throw new InvalidOperationException($"{url}: HTTP {(int)resp.StatusCode} {new StreamReader(resp.Content.ReadAsStream()).ReadToEnd().Trim()}");
    }

    public void Dispose() => _http.Dispose();
}
