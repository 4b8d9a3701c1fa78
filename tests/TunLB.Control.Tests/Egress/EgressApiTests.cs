using System.Text.Json;
using TunLB.Control.Api;
using TunLB.Control.Egress;
using TunLB.Core.Egress;
using TunLB.Core.Flows;
using static TunLB.Control.Tests.Egress.EgressSamples;

namespace TunLB.Control.Tests.Egress;

public class EgressApiTests
{
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
        Assert.Equal((4, 1, IP("198.51.100.10"), IP("203.0.113.10"), IP("198.51.100.10")), ((int)a.Ttl, (int)a.Seq, a.From, a.ProbeSource, a.Target));
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
}
