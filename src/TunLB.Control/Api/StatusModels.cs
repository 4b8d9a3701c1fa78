using System.Text.Json.Serialization;

namespace TunLB.Control.Api;

// The event log, the history for graphs and run-time health checks (docs/status-page.md, docs/health-checks.md):
//   GET    /api/v1/events?since=ID                              -> EventsDto (events after ID still in memory; next = ID to ask next)
//   GET    /api/v1/events/stream?since=ID                       -> text/event-stream, one EventDto per "data:" line
//   GET    /api/v1/history                                      -> HistoryDto (last 10 minutes, one sample per 2 s)
//   PUT    /api/v1/services/{proto}/{vip}/{port}/check          {check keys} -> ServiceDto   (as [service.check])
//   DELETE /api/v1/services/{proto}/{vip}/{port}/check          -> ServiceDto
//   PUT    .../reals/{addr}/{rport}/check                       {check keys} -> RealDto      (as [service.real.check])
//   DELETE .../reals/{addr}/{rport}/check                       -> RealDto    (the service's check applies again)
//   POST   .../reals/{addr}/{rport}/maintenance                 -> RealDto    (weight 0 until ready)
//   DELETE .../reals/{addr}/{rport}/maintenance                 -> RealDto
//   POST   .../reals/{addr}/{rport}/ready                       -> RealDto    (ends maintenance and drain)
// The check body is a JSON object with the keys of a [service.check] table ("type", "path", "interval", ...).

/// <summary>One event; service and real are null (not left out) when the event is not about one.</summary>
public sealed record EventDto(long Id, string Time, string Kind,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Service,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Real,
    string Message);

/// <summary>Events after the asked id, oldest first; <see cref="Next"/> is the id to pass as since next time.</summary>
public sealed record EventsDto(IReadOnlyList<EventDto> Events, long Next);

/// <summary>Director-wide rates over each interval (not smoothed), connection-table entries and drops.</summary>
public sealed record HistoryPointDto(string Time, double Cps, double InPps, double InBps, int Connections, double Drops);

public sealed record HistoryDto(double IntervalSeconds, IReadOnlyList<HistoryPointDto> Samples);
