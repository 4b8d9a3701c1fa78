namespace TunLB.Core.Sync;

/// <summary>
/// What a sync message carries, in the v1 header's 16-bit <c>spare</c> field (0 in IPVS's own messages, so an IPVS
/// message reads as <see cref="Connections"/>). The kind is covered by the message's MAC like everything else.
/// </summary>
public enum SyncMessageKind : ushort
{
    /// <summary>Connection records: new connections, state changes, templates, or one part of a bulk answer.</summary>
    Connections = 0,
    /// <summary>"Send me your table": a director that starts or rejoins asks each peer (no records).</summary>
    BulkRequest = 1,
    /// <summary>The last message of a bulk answer (no records): the asker now has this peer's table.</summary>
    BulkEnd = 2,
}
