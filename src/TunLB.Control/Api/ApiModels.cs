using System.Text.Json;
using System.Text.Json.Serialization;

namespace TunLB.Control.Api;

// The management API's wire types (JSON, snake_case), shared by the director's API server and `tunlb adm`.
// These are DTOs only: core types never cross the API.
//
// Endpoints (all under the director's [director] api address; bearer token when api_token is set):
//   GET    /api/v1/info                                         -> InfoDto
//   GET    /api/v1/services                                     -> ServiceDto[]   (with stats and rates)
//   POST   /api/v1/services                   ServiceSpec       -> 201 ServiceDto (409 if it exists)      ipvsadm -A
//   DELETE /api/v1/services                                     -> 204            (all services)          ipvsadm -C
//   GET    /api/v1/services/{proto}/{vip}/{port}                -> ServiceDto
//   PUT    /api/v1/services/{proto}/{vip}/{port}  ServiceSpec   -> ServiceDto     (null fields unchanged)  ipvsadm -E
//   DELETE /api/v1/services/{proto}/{vip}/{port}                -> 204                                    ipvsadm -D
//   POST   /api/v1/services/{proto}/{vip}/{port}/reals  RealSpec -> 201 RealDto (409 if it exists)         ipvsadm -a
//   PUT    /api/v1/services/{proto}/{vip}/{port}/reals/{addr}/{rport}  RealSpec -> RealDto                ipvsadm -e
//   DELETE /api/v1/services/{proto}/{vip}/{port}/reals/{addr}/{rport}  -> 204                             ipvsadm -d
//   POST   /api/v1/batch                      BatchSpec         -> BatchResultDto (all or nothing)        tunlb adm -R
//   GET    /api/v1/connections                                  -> ConnectionDto[]                        ipvsadm -L -c
//   GET    /api/v1/stats                                        -> StatsSummaryDto (drops by reason, totals)
//   POST   /api/v1/stats/zero                 ZeroSpec?         -> 204            (all, or one service)   ipvsadm -Z
//   GET    /api/v1/timeouts                                     -> TimeoutsDto                            ipvsadm -L --timeout
//   PUT    /api/v1/timeouts                   TimeoutsDto       -> TimeoutsDto    (0 = unchanged)         ipvsadm --set
//   GET    /api/v1/director                                     -> DirectorStatusDto (announced VIPs, drain)
//   POST   /api/v1/director/drain                               -> DirectorStatusDto (withdraw every VIP)  tunlb adm --drain-director
//   DELETE /api/v1/director/drain                               -> DirectorStatusDto (announce again)     tunlb adm --undrain-director
//   POST   /api/v1/reload                                       -> ReloadResultDto (400 + errors on a bad file)
//   GET    /api/v1/config.toml                                  -> the runtime state as a TunLB config file (text/plain)
//   GET    /metrics                                             -> Prometheus text exposition format
//   POST   /api/v1/gc                                           -> GcResultDto (Director/Api/GcApi.cs: a full collection, a diagnostic)
// {proto} is "tcp" or "udp"; {vip}/{addr} are IP literals (IPv6 without brackets, URL-encoded).
// Errors: 4xx with ErrorDto naming the field.

public static class ApiJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        WriteIndented = true,
    };
}

public sealed record ErrorDto(string Error, string? Field = null, IReadOnlyList<string>? Details = null);

/// <summary>GET /api/v1/info. Table size and connections are sums over the workers; <see cref="Workers"/> lists each.</summary>
/// <param name="Io">The capture backend running: "tun", "afpacket" or "xdp" (absent from older directors).</param>
/// <param name="IoRequested">What the config asked for: one of those or "auto".</param>
/// <param name="IoSkipped">Why better backends were skipped ("xdp: ..."), empty when none was.</param>
public sealed record InfoDto(string Version, int ConnectionTableSize, int Connections, string Api, IReadOnlyList<WorkerDto>? Workers = null,
    string? Io = null, string? IoRequested = null, string? IoSkipped = null, string? Tx = null);

/// <summary>One data-path worker: its TUN queue's connection table and what it forwarded.</summary>
/// <param name="PeerAdopted">Flows it found in another worker's table (fragments, ICMP errors, mixed datagrams) and followed.</param>
public sealed record WorkerDto(int Index, int ConnectionTableSize, int Connections, long Forwarded, long PeerAdopted);

public sealed record StatsDto(long Conns, long InPkts, long OutPkts, long InBytes, long OutBytes);

/// <summary>Rates over IPVS's estimator window (2 s samples, smoothed): per second.</summary>
public sealed record RatesDto(double Cps, double InPps, double OutPps, double InBps, double OutBps);

public sealed record RealDto(
    string Address, int Port, int Weight, int UpperThreshold, int LowerThreshold,
    string Forward,            // always "tunnel"
    string TunType,            // "ipip" (later "gue")
    int TunPort, string TunFlags,
    int ActiveConns, int InactiveConns, int PersistConns,
    StatsDto Stats, RatesDto Rates,
    HealthDto? Health = null); // health checking, drain, sorry server (optional: absent from older directors)

public sealed record ServiceDto(
    string Protocol, string Vip, int Port, string Scheduler, IReadOnlyList<string> Flags,
    int Persistence,           // seconds, 0 = off
    string PersistenceNetmask, // dotted for IPv4, prefix length for IPv6
    int MhTableSize,
    StatsDto Stats, RatesDto Rates, IReadOnlyList<RealDto> Reals,
    long? Adopted = null);    // TCP flows first seen without SYN and scheduled (taken over from another director)

/// <summary>
/// This director's announcement (docs/multi-director.md): whether it announces its VIPs in a routing table, whether
/// it is drained, the VIPs announced now and why the others are withheld.
/// </summary>
public sealed record DirectorStatusDto(bool Announce, int? AnnounceTable, bool Drained, IReadOnlyList<string> Announced,
    IReadOnlyDictionary<string, string> Withheld);

/// <summary>Create (all required except noted) or edit (null = unchanged) a service.</summary>
public sealed record ServiceSpec(
    string? Protocol = null, string? Vip = null, int? Port = null, string? Scheduler = null,
    IReadOnlyList<string>? Flags = null, int? Persistence = null, string? PersistenceNetmask = null, int? MhTableSize = null);

/// <summary>Create or edit (null = unchanged) a real server.</summary>
public sealed record RealSpec(
    string? Address = null, int? Port = null, int? Weight = null, int? UpperThreshold = null, int? LowerThreshold = null,
    string? TunType = null, int? TunPort = null, string? TunFlags = null);

public sealed record ConnectionDto(
    string Protocol, string Client, int ClientPort, string Vip, int VipPort, string Real, int RealPort,
    string State,              // IPVS names: NONE ESTABLISHED SYN_SENT SYN_RECV FIN_WAIT TIME_WAIT CLOSE CLOSE_WAIT LAST_ACK LISTEN SYNACK UDP
    double ExpiresInSeconds, bool Template);

public sealed record StatsSummaryDto(StatsDto Total, RatesDto Rates, IReadOnlyDictionary<string, long> Drops, long ConnectionTableEvictions, long ConnectionTableRefusals,
    SynFloodDto? SynFlood = null);

public sealed record ZeroSpec(string? Protocol = null, string? Vip = null, int? Port = null);

public sealed record TimeoutsDto(int Tcp, int TcpFin, int Udp);

// ---------------------------------------------------------------- health checking (docs/health-checks.md)
//   GET    /api/v1/health                                       -> HealthReportDto (every service: quorum, reals' health)
//   POST   /api/v1/services/{proto}/{vip}/{port}/reals/{addr}/{rport}/drain  DrainSpec? -> RealDto   (weight 0 until idle)
//   DELETE /api/v1/services/{proto}/{vip}/{port}/reals/{addr}/{rport}/drain             -> RealDto   (undrain)

/// <summary>Health of one real server (or the sorry server). Times are UTC; durations in seconds.</summary>
public sealed record HealthDto(
    string Status,             // "up", "down" (failed its check), "unchecked" (no check configured)
    string Check,              // the check, e.g. "http GET /healthz :80 via tunnel, every 2 s, ..."; "none"
    string OnFailure,          // "remove" | "inhibit"
    int ConfiguredWeight,      // the weight from the file / API; "weight" in RealDto is the effective one
    string Admin,              // "ready" | "drain" | "maint" (agent) 
    bool Draining,             // operator drain (API / adm --drain)
    bool RemoveWhenIdle,       // drain before delete
    bool Suppressed,           // up-transitions withheld by the flap dampener
    bool Sorry,                // this is the service's sorry server
    bool? LastOk, string LastResult, double LastDurationSeconds, DateTimeOffset? LastCheck,
    DateTimeOffset LastChange, long Failures, long UpDownTransitions);

public sealed record ServiceHealthDto(
    string Protocol, string Vip, int Port,
    bool QuorumUp, int LiveWeight, int Quorum, int Hysteresis, bool SorryActive, string? SorryServer,
    IReadOnlyList<RealHealthDto> Reals);

public sealed record RealHealthDto(string Address, int Port, int Weight, HealthDto Health);

public sealed record HealthReportDto(IReadOnlyList<ServiceHealthDto> Services, long PinnedCheckPackets, string CheckPortRange);

/// <summary>Drain a real server: weight 0 until it has no connections; then delete it when <see cref="RemoveWhenIdle"/>.</summary>
public sealed record DrainSpec(bool? RemoveWhenIdle = null);

public sealed record ReloadResultDto(bool Ok, string File, IReadOnlyList<string> Changes, IReadOnlyList<string> Errors);
