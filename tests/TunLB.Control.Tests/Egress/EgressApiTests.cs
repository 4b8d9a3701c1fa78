using System.Buffers.Binary;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using TunLB.Control.Api;
using TunLB.Control.Egress;
using TunLB.Core.Egress;
using TunLB.Core.Flows;
using TunLB.Core.Packets;

namespace TunLB.Control.Tests.Egress;

public class EgressApiTests
{
    private static readonly EgressSessionId Session = new(0x0123456789ABCDEFUL);
    private static uint A(string s) => IpAddress.Parse(s).V4;

    /// <summary>An ICMP error from <paramref name="from"/> quoting a whole VIP probe (Linux-style quote).</summary>
    private static byte[] Answer(string from, byte type, byte code, int ttl, int seq)
    {
        var probe = new byte[EgressProbe.PacketLength];
        EgressProbe.Write(probe, A("203.0.113.10"), A("198.51.100.10"), Session, ttl, seq, EgressSeries.Vip);
        var p = new byte[28 + probe.Length];
        p[0] = 0x45; BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(2), (ushort)p.Length); p[8] = 64; p[9] = 1;
        BinaryPrimitives.WriteUInt32BigEndian(p.AsSpan(12), A(from));
        BinaryPrimitives.WriteUInt32BigEndian(p.AsSpan(16), A("203.0.113.10"));
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(10), Checksum.Compute(p.AsSpan(0, 20)));
        p[20] = type; p[21] = code;
        probe.CopyTo(p.AsSpan(28));
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(22), Checksum.Compute(p.AsSpan(20)));
        return p;
    }

    private static EgressAnswerRecorder Recorder()
    {
        var r = new EgressAnswerRecorder(64);
        Assert.True(r.TryRecord(Answer("192.0.2.129", 11, 0, 1, 0), 1000));
        Assert.True(r.TryRecord(Answer("192.0.2.129", 11, 0, 1, 0), 1001)); // the same answer seen on a second interface
        Assert.True(r.TryRecord(Answer("198.51.100.10", 3, 3, 4, 1), 1500));
        return r;
    }

    [Fact]
    public void Answers_are_deduplicated_and_timed_in_utc()
    {
        var now = new DateTimeOffset(2030, 1, 2, 3, 4, 5, TimeSpan.Zero);
        var list = EgressApi.Answers(Recorder(), Session, nowMs: 2000, utcNow: now);
        Assert.Equal(2, list.Count);
        Assert.Equal(new EgressAnswerDto("0123456789abcdef", 1, 0, "192.0.2.129", 11, 0, "time-exceeded", "203.0.113.10", "198.51.100.10", now.AddMilliseconds(-1000)), list[0]);
        Assert.Equal(("198.51.100.10", 3, 3, "port-unreachable", 4), (list[1].From, list[1].Type, list[1].Code, list[1].Kind, list[1].Hop));
    }

    [Fact]
    public void Json_shape_is_snake_case_and_round_trips_to_core_answers()
    {
        var list = EgressApi.Answers(Recorder(), Session, 2000, DateTimeOffset.UnixEpoch);
        var json = JsonSerializer.Serialize(list, ApiJson.Options);
        var first = JsonDocument.Parse(json).RootElement[0];
        Assert.Equal(["session", "hop", "seq", "from", "type", "code", "kind", "source", "target", "time"], first.EnumerateObject().Select(p => p.Name));
        var back = JsonSerializer.Deserialize<List<EgressAnswerDto>>(json, ApiJson.Options)!;
        var a = back[1].ToAnswer();
        Assert.True(a.BelongsTo(Session));
        Assert.Equal((4, 1, A("198.51.100.10"), A("203.0.113.10"), A("198.51.100.10")), ((int)a.Ttl, (int)a.Seq, a.From, a.ProbeSource, a.Target));
    }

    [Fact]
    public void Handle_refuses_a_bad_session()
    {
        var (status, body) = EgressApi.Handle(Recorder(), "xyz", 0, DateTimeOffset.UnixEpoch);
        Assert.Equal(400, status);
        Assert.Equal("session", Assert.IsType<ErrorDto>(body).Field);
        Assert.Equal(200, EgressApi.Handle(Recorder(), "0123456789abcdef", 0, DateTimeOffset.UnixEpoch).Status);
        Assert.Empty((List<EgressAnswerDto>)EgressApi.Handle(Recorder(), "0123456789abcdee", 0, DateTimeOffset.UnixEpoch).Body);
    }

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
        var result = new EgressResult(EgressVerdictKind.Blocked, "r", 0, 2, A("198.18.10.2"), 1, A("192.0.2.129"), 4, []);
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
