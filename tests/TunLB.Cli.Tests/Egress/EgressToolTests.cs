using System.Net;
using System.Net.Http.Headers;
using TunLB.Cli.Egress;
using TunLB.Control.Egress;
using TunLB.Core.Egress;
using static TunLB.Control.Tests.Egress.EgressSamples;

namespace TunLB.Cli.Tests.Egress;

/// <summary>`tunlb egress-listen`'s server, `egress-check`'s client and its report.</summary>
public class EgressToolTests
{
    [Fact]
    public void Non_loopback_listen_requires_a_token()
    {
        var e = Assert.Throws<ArgumentException>(() => new EgressListenServer("0.0.0.0:9", null, Recorder(), () => 0));
        Assert.Contains("--token", e.Message);
        Assert.Throws<ArgumentException>(() => new EgressListenServer("nonsense", null, Recorder(), () => 0));
    }

    private static int FreePort()
    {
        var l = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        l.Start();
        int p = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return p;
    }

    [Fact]
    public void Server_serves_answers_to_the_client_and_checks_the_token()
    {
        int port = FreePort();
        using var server = new EgressListenServer($"127.0.0.1:{port}", "s3cret", Recorder(), () => 2000);
        using (var client = new EgressAnswersClient($"http://127.0.0.1:{port}", Session, "s3cret"))
        {
            var list = client.Fetch();
            Assert.Equal(2, list.Count);
            Assert.Equal("192.0.2.129", list[0].From);
        }
        using (var wrong = new EgressAnswersClient($"127.0.0.1:{port}", Session, "nope"))
            Assert.Contains("HTTP 401", Assert.Throws<InvalidOperationException>(() => wrong.Fetch()).Message);
        using var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "s3cret");
        Assert.Equal(HttpStatusCode.NotFound, http.GetAsync($"http://127.0.0.1:{port}/api/v1/other").Result.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, http.GetAsync($"http://127.0.0.1:{port}{EgressApi.AnswersPath}").Result.StatusCode);
    }

    [Fact]
    public void Provider_request_states_source_host_reason_and_evidence()
    {
        var result = new EgressResult(EgressVerdictKind.Blocked, "r", 0, 2, IP("198.18.10.2"), 1, IP("192.0.2.129"), 4, []);
        var ctx = new EgressCheckContext("203.0.113.10", "192.0.2.131", "198.51.100.10", "0123456789abcdef", 16, 2, 20, 32, 8,
            "http://203.0.113.2:9401", null, new DateTimeOffset(2030, 1, 2, 3, 4, 0, TimeSpan.Zero));
        var text = EgressReport.ProviderRequest(result, ctx);
        Assert.Contains("allow source address 203.0.113.10 from our server 192.0.2.131", text);
        Assert.Contains("LVS-TUN", text);
        Assert.Contains("announces", text);
        Assert.Contains("203.0.113.10/32", text);
        Assert.Contains("answered up to hop 1 (192.0.2.129)", text);
        Assert.Contains("hop 2 (198.18.10.2) answers the probes from 192.0.2.131 but not those from 203.0.113.10", text);
        Assert.Contains("reach 198.51.100.10 (hop 4)", text);
        Assert.Equal("BLOCKED AT HOP 2 (198.18.10.2)", EgressReport.Summary(result));
        var dto = EgressReport.ToDto(result, ctx);
        Assert.Equal(("blocked", 1, 2, "198.18.10.2"), (dto.Verdict, dto.ExitCode, dto.BlockingHop, dto.BlockingRouter));
    }
}
