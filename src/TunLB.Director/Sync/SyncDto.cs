namespace TunLB.Director.Sync;

/// <summary>GET /api/v1/sync: connection sync's state and counters (docs/connection-sync.md).</summary>
public sealed record SyncDto(
    bool Enabled,
    bool Synced,
    string State,
    IReadOnlyList<string> Peers,
    IReadOnlyList<string> PeersSynced,
    long Queued,
    long MessagesSent,
    long MessagesReceived,
    long RecordsSent,
    long RecordsReceived,
    long RecordsApplied,
    long BulkRequestsSent,
    long BulkRequestsAnswered,
    long BulkRecordsSent,
    long SendErrors,
    IReadOnlyDictionary<string, long> MessagesDropped,
    IReadOnlyDictionary<string, long> RecordsDropped)
{
    /// <summary>Message drop reasons, as the API and /metrics name them.</summary>
    public static readonly IReadOnlyList<string> MessageDropReasons = ["bad_mac", "non_peer", "malformed", "wrong_syncid"];
    /// <summary>Record drop reasons.</summary>
    public static readonly IReadOnlyList<string> RecordDropReasons = ["queue_full", "rate_cap", "unknown_real", "unknown_service", "table_full"];

    public static SyncDto From(SyncStatus status)
    {
        if (status.Service is not { } s)
            return new SyncDto(false, status.Synced, status.State, [], [], 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                MessageDropReasons.ToDictionary(r => r, _ => 0L), RecordDropReasons.ToDictionary(r => r, _ => 0L));
        var c = s.Counters;
        long R(ref long x) => SyncCounters.Read(ref x);
        var messages = new Dictionary<string, long>
        {
            ["bad_mac"] = R(ref c.BadMac), ["non_peer"] = R(ref c.NonPeer), ["malformed"] = R(ref c.Malformed),
            ["wrong_syncid"] = R(ref c.WrongSyncId),
        };
        var records = new Dictionary<string, long>
        {
            ["queue_full"] = s.QueueFull, ["rate_cap"] = R(ref c.RateCap), ["unknown_real"] = R(ref c.UnknownReal),
            ["unknown_service"] = R(ref c.UnknownService), ["table_full"] = R(ref c.TableFull),
        };
        return new SyncDto(true, status.Synced, status.State, s.Peers.Select(p => p.ToString()).ToArray(),
            s.Answered.Select(p => p.ToString()).ToArray(), s.Queued,
            R(ref c.MessagesSent), R(ref c.MessagesReceived), R(ref c.RecordsSent), R(ref c.RecordsReceived), R(ref c.RecordsApplied),
            R(ref c.BulkRequestsSent), R(ref c.BulkRequestsAnswered), R(ref c.BulkRecordsSent), R(ref c.SendErrors), messages, records);
    }
}
