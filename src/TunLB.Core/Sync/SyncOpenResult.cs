namespace TunLB.Core.Sync;

/// <summary>Why a received datagram was not used.</summary>
public enum SyncOpenResult : byte
{
    Ok,
    /// <summary>Too short, wrong version, sizes that do not add up, an unknown record type or protocol.</summary>
    Malformed,
    /// <summary>The MAC does not match: another key, or changed on the way.</summary>
    BadMac,
}
