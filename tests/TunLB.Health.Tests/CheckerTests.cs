using System.Net;
using System.Net.Sockets;
using static TunLB.Health.Tests.LocalServer;

namespace TunLB.Health.Tests;

public sealed class CheckerTests
{
    private static Task<CheckResult> Run(CheckSpec spec, int port) => Checkers.For(spec.Type).CheckAsync(Ctx(spec, port), CancellationToken.None);

    [Fact]
    public async Task TcpPassesOnConnectAndFailsOnRefused()
    {
        using var srv = Tcp(_ => Task.CompletedTask);
        var ok = await Run(new CheckSpec { Type = "tcp" }, srv.Port);
        Assert.True(ok.Ok, ok.Detail);
        var bad = await Run(new CheckSpec { Type = "tcp" }, ClosedPort());
        Assert.False(bad.Ok);
        Assert.Contains("connection refused", bad.Detail);
    }

    [Fact]
    public async Task TcpTimesOutAgainstABlackHole()
    {
        // 192.0.2.0/24 (TEST-NET-1) is not routed here: either unreachable at once or a timeout; never a pass.
        var spec = new CheckSpec { Type = "tcp", TimeoutSeconds = 0.3 };
        var ctx = Ctx(spec, 80) with { Target = new IPEndPoint(IPAddress.Parse("192.0.2.254"), 80) };
        var r = await new TcpChecker().CheckAsync(ctx, CancellationToken.None);
        Assert.False(r.Ok);
        Assert.True(r.Duration < TimeSpan.FromSeconds(2), r.Duration.ToString());
    }

    [Theory]
    [InlineData(200, "hello world", "200-399", "", true)]
    [InlineData(302, "", "200-399", "", true)]
    [InlineData(500, "oops", "200-399", "", false)]
    [InlineData(404, "", "200,204", "", false)]
    [InlineData(204, "", "200,204", "", true)]
    [InlineData(200, "status: ok", "2xx", "ok", true)]
    [InlineData(200, "status: bad", "2xx", "ok\n", false)]
    public async Task HttpJudgesStatusAndBody(int status, string body, string expect, string expectBody, bool pass)
    {
        using var srv = Http(status, body);
        // A generous timeout: the stub server shares the test host's thread pool with every other test class running in
        // parallel, and the default 1 s was once not enough for it to answer (a timeout is not what is judged here).
        var r = await Run(new CheckSpec { Type = "http", ExpectStatus = expect, ExpectBody = expectBody, TimeoutSeconds = 10 }, srv.Port);
        Assert.True(r.Ok == pass, r.Detail);
    }

    [Fact]
    public async Task HttpSendsTheHostHeaderAndReadsChunkedBodies()
    {
        using var srv = Http(200, "served for {host}", chunked: true);
        var r = await Run(new CheckSpec { Type = "http", Host = "www.example.org", ExpectBody = "for www.example.org", TimeoutSeconds = 10 }, srv.Port);
        Assert.True(r.Ok, r.Detail);
    }

    [Fact]
    public async Task HttpFailsOnRefusedAndOnGarbage()
    {
        Assert.Contains("refused", (await Run(new CheckSpec { Type = "http" }, ClosedPort())).Detail);
        using var srv = Line("SSH-2.0-OpenSSH\r\n");
        var r = await Run(new CheckSpec { Type = "http" }, srv.Port);
        Assert.False(r.Ok);
        Assert.Contains("not an HTTP response", r.Detail);
    }

    [Fact]
    public async Task HttpsVerifiesUnlessToldNotTo()
    {
        using var cert = SelfSigned("rs1.example");
        using var srv = Http(200, "secure", cert);
        var skip = await Run(new CheckSpec { Type = "https", Host = "rs1.example", TlsSkipVerify = true, ExpectBody = "secure", TimeoutSeconds = 10 }, srv.Port);
        Assert.True(skip.Ok, skip.Detail);
        var verify = await Run(new CheckSpec { Type = "https", Host = "rs1.example", TimeoutSeconds = 10 }, srv.Port);
        Assert.False(verify.Ok);
        Assert.Contains("tls", verify.Detail);
    }

    [Fact]
    public async Task UdpNeedsAReplyWithTheExpectedText()
    {
        using var echo = Udp(q => q);
        Assert.True((await Run(new CheckSpec { Type = "udp", Payload = "ping" }, echo.Port)).Ok);
        var r = await Run(new CheckSpec { Type = "udp", Payload = "ping", Expect = "pong" }, echo.Port);
        Assert.False(r.Ok);
        Assert.Contains("lacks \"pong\"", r.Detail);

        using var silent = Udp(_ => null);
        var s = await Run(new CheckSpec { Type = "udp", TimeoutSeconds = 0.3 }, silent.Port);
        Assert.False(s.Ok);
        Assert.Contains("no reply", s.Detail);
    }

    [Fact]
    public async Task UdpPortUnreachableFails()
    {
        using var u = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        int port = ((IPEndPoint)u.Client.LocalEndPoint!).Port;
        u.Dispose();
        var r = await Run(new CheckSpec { Type = "udp", TimeoutSeconds = 1 }, port);
        Assert.False(r.Ok, r.Detail);
    }

    [Fact]
    public async Task UdpWithoutRequireReplyPassesOnSilenceAndFailsOnPortUnreachable()
    {
        // keepalived's UDP_CHECK without require_reply: silence is success, an ICMP error is failure.
        using var silent = Udp(_ => null);
        var s = await Run(new CheckSpec { Type = "udp", TimeoutSeconds = 0.3, RequireReply = false }, silent.Port);
        Assert.True(s.Ok, s.Detail);
        Assert.Contains("reply not required", s.Detail);
        using var u = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        int port = ((IPEndPoint)u.Client.LocalEndPoint!).Port;
        u.Dispose();
        var r = await Run(new CheckSpec { Type = "udp", TimeoutSeconds = 1, RequireReply = false }, port);
        Assert.False(r.Ok, r.Detail);
    }

    [Fact]
    public async Task DnsWithoutRequireAnswerPassesOnAnyNoError()
    {
        // keepalived's DNS_CHECK (SOA for the root): RCODE 0 passes with or without answers; an error RCODE still fails.
        using var empty = Udp(q =>
        {
            var resp = (byte[])q.Clone();
            resp[2] = 0x81; resp[3] = 0x80; // QR, RD, RA; NOERROR; ANCOUNT stays 0
            return resp;
        });
        var spec = new CheckSpec { Type = "dns", QueryName = ".", QueryType = "SOA" };
        Assert.False((await Run(spec, empty.Port)).Ok);
        var ok = await Run(spec with { RequireAnswer = false }, empty.Port);
        Assert.True(ok.Ok, ok.Detail);
        using var dns = Dns();
        Assert.False((await Run(new CheckSpec { Type = "dns", QueryName = "missing.example", RequireAnswer = false }, dns.Port)).Ok);
    }

    [Fact]
    public async Task DnsNeedsNoErrorAndAnAnswer()
    {
        using var dns = Dns();
        var ok = await Run(new CheckSpec { Type = "dns", QueryName = "www.example", QueryType = "A" }, dns.Port);
        Assert.True(ok.Ok, ok.Detail);
        var nx = await Run(new CheckSpec { Type = "dns", QueryName = "missing.example" }, dns.Port);
        Assert.False(nx.Ok);
        Assert.Contains("NXDOMAIN", nx.Detail);
        using var echo = Udp(q => q); // a query echoed back is not a response (QR clear)
        Assert.False((await Run(new CheckSpec { Type = "dns", QueryName = "www.example" }, echo.Port)).Ok);
    }

    [Fact]
    public void DnsQueryIsWellFormed()
    {
        var q = DnsMessage.Query(0x1234, "www.example.org", 28);
        Assert.Equal(new byte[] { 0x12, 0x34, 0x01, 0, 0, 1, 0, 0, 0, 0, 0, 0, 3, (byte)'w', (byte)'w', (byte)'w' }, q[..16]);
        Assert.Equal(new byte[] { 0, 0, 28, 0, 1 }, q[^5..]);
    }

    [Theory]
    [InlineData("exit 0", false, true, null)]
    [InlineData("exit 1", false, false, null)]
    [InlineData("exit 7", false, false, null)]
    [InlineData("exit 7", true, true, 5)]
    [InlineData("exit 2", true, true, 0)]
    [InlineData("exit 1", true, false, null)]
    [InlineData("test \"$TUNLB_REAL\" = 127.0.0.1 && test \"$TUNLB_VIP\" = 203.0.113.10", false, true, null)]
    public async Task MiscExitCodesAndDynamicWeights(string command, bool dynamic, bool pass, int? weight)
    {
        var r = await Run(new CheckSpec { Type = "misc", Command = command, Dynamic = dynamic, TimeoutSeconds = 5 }, 80);
        Assert.True(r.Ok == pass, r.Detail);
        Assert.Equal(weight, r.Weight);
    }

    [Fact]
    public async Task MiscIsKilledAtTheTimeout()
    {
        var r = await Run(new CheckSpec { Type = "misc", Command = "sleep 10", TimeoutSeconds = 0.3 }, 80);
        Assert.False(r.Ok);
        Assert.Contains("timeout", r.Detail);
        Assert.True(r.Duration < TimeSpan.FromSeconds(3));
    }

    [Theory]
    [InlineData("up\n", true, AgentAdmin.Unchanged, null, null)]
    [InlineData("down # disk full\n", false, AgentAdmin.Unchanged, null, null)]
    [InlineData("drain\n", true, AgentAdmin.Drain, null, null)]
    [InlineData("maint", true, AgentAdmin.Maint, null, null)]
    [InlineData("ready,up,75%\r\n", true, AgentAdmin.Ready, 75, null)]
    [InlineData("weight:3 up", true, AgentAdmin.Unchanged, null, 3)]
    [InlineData("up, weight:50%, maxconn:30", true, AgentAdmin.Unchanged, 50, null)]
    [InlineData("stopped", false, AgentAdmin.Unchanged, null, null)]
    public async Task AgentRepliesAreParsed(string line, bool ok, AgentAdmin admin, int? percent, int? weight)
    {
        using var srv = Line(line);
        var r = await Run(new CheckSpec { Type = "agent" }, srv.Port);
        Assert.True(r.Ok == ok, r.Detail);
        Assert.Equal(admin, r.Admin);
        Assert.Equal(percent, r.WeightPercent);
        Assert.Equal(weight, r.Weight);
    }

    [Fact]
    public async Task AgentFailsWhenUnreachableOrSilent()
    {
        Assert.False((await Run(new CheckSpec { Type = "agent" }, ClosedPort())).Ok);
        using var srv = Line("");
        var r = await Run(new CheckSpec { Type = "agent" }, srv.Port);
        Assert.False(r.Ok);
        Assert.Contains("empty", r.Detail);
    }

    [Fact]
    public async Task BinderIsCalledWithTheSocketBeforeConnecting()
    {
        using var srv = Tcp(_ => Task.CompletedTask);
        int bound = 0;
        var disposed = 0;
        var ctx = Ctx(new CheckSpec { Type = "tcp" }, srv.Port) with
        {
            Binder = (sock, proto) =>
            {
                Assert.Equal(ProtocolType.Tcp, proto);
                sock.Bind(new IPEndPoint(IPAddress.Loopback, 0));
                bound = ((IPEndPoint)sock.LocalEndPoint!).Port;
                return new Lease(() => disposed++);
            },
        };
        Assert.True((await new TcpChecker().CheckAsync(ctx, CancellationToken.None)).Ok);
        Assert.NotEqual(0, bound);
        Assert.Equal(1, disposed);
    }

    private sealed class Lease(Action a) : IDisposable { public void Dispose() => a(); }

    [Theory]
    [InlineData("200-399", 200, true)]
    [InlineData("200-399", 399, true)]
    [InlineData("200-399", 400, false)]
    [InlineData("200, 301-302", 302, true)]
    [InlineData("5xx", 503, true)]
    public void StatusRangesParse(string text, int status, bool inside) => Assert.Equal(inside, StatusRanges.Parse(text).Contains(status));

    [Theory]
    [InlineData("abc")]
    [InlineData("399-200")]
    [InlineData("99")]
    [InlineData("")]
    public void BadStatusRangesAreRefused(string text) => Assert.False(StatusRanges.TryParse(text, out _, out _));
}
