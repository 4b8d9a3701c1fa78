using System.Net;
using TunLB.Control.Api;
using TunLB.Core.Egress;
using TunLB.Core.Flows;

namespace TunLB.Control.Egress;

/// <summary>
/// One recorded ICMP answer to an egress probe, as served by
/// <c>GET /api/v1/egress/answers?session=ID</c> (a JSON array of these, snake_case, <see cref="ApiJson.Options"/>),
/// by both `tunlb egress-listen` and the TunLB director.
/// </summary>
/// <param name="Session">The check's session id (16 hex digits); the full id when the router quoted the probe payload, else the id asked for.</param>
/// <param name="Hop">The probe's TTL (1 = first router).</param>
/// <param name="Seq">The probe's number within its hop (0-based).</param>
/// <param name="From">Who answered: a router (time-exceeded) or the target (port-unreachable).</param>
/// <param name="Type">ICMP type: 11 time-exceeded, 3 destination-unreachable; for an IPv6 probe the ICMPv6 type: 3 time-exceeded, 1 destination-unreachable.</param>
/// <param name="Code">ICMP code (type 3 code 3 = port unreachable; ICMPv6 type 1 code 4 = port unreachable).</param>
/// <param name="Kind">Type and code in words: "time-exceeded", "port-unreachable", "admin-prohibited", ...</param>
/// <param name="Source">The probe's source address (the VIP for answers the director sees).</param>
/// <param name="Target">The probe's destination.</param>
/// <param name="Time">When the answer arrived (UTC, ISO 8601).</param>
public sealed record EgressAnswerDto(
    string Session, int Hop, int Seq, string From, int Type, int Code, string Kind, string Source, string Target, DateTimeOffset Time)
{
    /// <summary>Back to the core value (for the checker); the time becomes ms since the Unix epoch.</summary>
    public EgressAnswer ToAnswer()
    {
        EgressSessionId.TryParse(Session, out var s);
        return new EgressAnswer
        {
            Tag = s.Tag, Session = s.Value, HasSession = true,
            Ttl = (byte)Math.Clamp(Hop, 0, 255), Seq = (byte)Math.Clamp(Seq, 0, 255), Type = (byte)Type, Code = (byte)Code,
            From = Ip(From), ProbeSource = Ip(Source), Target = Ip(Target), TimeMs = Time.ToUnixTimeMilliseconds(),
        };
    }

    private static IpAddress Ip(string s) => IPAddress.TryParse(s, out var a) ? IpAddress.FromIPAddress(a) : default;
}

/// <summary>The egress answers endpoint, independent of the HTTP server that hosts it.</summary>
public static class EgressApi
{
    public const string AnswersPath = "/api/v1/egress/answers";

    /// <summary>
    /// The answers of one session as DTOs, oldest first, duplicates removed (the same answer seen on two interfaces:
    /// same hop, seq, sender, type and code). <paramref name="nowMs"/> is the recorder's clock now and
    /// <paramref name="utcNow"/> the wall clock now; they turn recorded times into UTC.
    /// </summary>
    public static List<EgressAnswerDto> Answers(EgressAnswerRecorder recorder, EgressSessionId session, long nowMs, DateTimeOffset utcNow)
    {
        var seen = new HashSet<(byte, byte, IpAddress, byte, byte)>();
        var list = new List<EgressAnswerDto>();
        foreach (var a in recorder.GetAnswers(session))
        {
            if (!seen.Add((a.Ttl, a.Seq, a.From, a.Type, a.Code))) continue;
            list.Add(new EgressAnswerDto(
                a.HasSession ? new EgressSessionId(a.Session).ToString() : session.ToString(),
                a.Ttl, a.Seq, EgressVerdict.Fmt(a.From), a.Type, a.Code, a.Describe(),
                EgressVerdict.Fmt(a.ProbeSource), EgressVerdict.Fmt(a.Target), utcNow.AddMilliseconds(a.TimeMs - nowMs)));
        }
        return list;
    }

    /// <summary>
    /// Handles <c>GET /api/v1/egress/answers?session=ID</c>: 200 with <see cref="EgressAnswerDto"/>[] or 400 with
    /// <see cref="ErrorDto"/> naming the <c>session</c> parameter. Authentication is the host's job.
    /// </summary>
    public static (int Status, object Body) Handle(EgressAnswerRecorder recorder, string? session, long nowMs, DateTimeOffset utcNow)
    {
        if (!EgressSessionId.TryParse(session, out var id))
            return (400, new ErrorDto("session must be 16 hexadecimal digits (the id egress-check prints)", "session"));
        return (200, Answers(recorder, id, nowMs, utcNow));
    }
}
