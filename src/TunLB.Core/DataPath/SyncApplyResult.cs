namespace TunLB.Core.DataPath;

/// <summary>What <see cref="DirectorEngine.ApplySync"/> did with a peer director's record.</summary>
public enum SyncApplyResult : byte
{
    /// <summary>Inserted or updated.</summary>
    Applied,
    /// <summary>Not in this table and another engine inserts it (or holds it already).</summary>
    NotHere,
    /// <summary>No service with that VIP, port and protocol here.</summary>
    UnknownService,
    /// <summary>The service has no usable real server with that address here.</summary>
    UnknownReal,
    /// <summary>The table is full and refuses.</summary>
    TableFull,
}
