namespace TunLB.Core.Sync;

/// <summary>A checked message's header fields.</summary>
public readonly record struct SyncHeader(byte SyncId, SyncMessageKind Kind, int Count);
