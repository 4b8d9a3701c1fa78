namespace TunLB.Director.Sync;

/// <summary>
/// The sync service's counters (thread-safe: Interlocked). Messages are datagrams to or from one peer; records are the
/// connection records inside them. Drops are counted by reason, messages and records apart.
/// </summary>
public sealed class SyncCounters
{
    public long MessagesSent, RecordsSent, MessagesReceived, RecordsReceived, RecordsApplied;
    public long BulkRequestsSent, BulkRequestsAnswered, BulkRecordsSent, SendErrors;
    // Messages dropped
    public long BadMac, NonPeer, Malformed, WrongSyncId;
    // Records dropped (queue_full also takes the workers' rings: see SyncService.QueueFull)
    public long QueueFullApply, RateCap, UnknownReal, UnknownService, TableFull;

    public static void Add(ref long counter, long n = 1) => Interlocked.Add(ref counter, n);
    public static long Read(ref long counter) => Interlocked.Read(ref counter);
}
