using System.Runtime.InteropServices;
using TunLB.Core.Flows;

namespace TunLB.Core.Connections;

/// <summary>Flags of a connection entry.</summary>
[Flags]
public enum ConnFlags : byte
{
    None = 0,
    /// <summary>A persistence template (IP_VS_CONN_F_TEMPLATE).</summary>
    Template = 1,
    /// <summary>The director sees only client-to-server packets (IP_VS_CONN_F_NOOUTPUT); always set in tunnel mode.</summary>
    InputOnly = 2,
}

/// <summary>
/// One slot of the <see cref="ConnectionTable"/>: a connection or a persistence template.
/// 80 bytes (FlowKey 40, ExpiresAtMs 8, seven ints 28, three bytes 3, padding 1).
/// </summary>
/// <remarks>
/// The caller owns <see cref="ExpiresAtMs"/>, <see cref="DestinationId"/>, <see cref="State"/> and
/// <see cref="Flags"/>. The key, the template link and the list links belong to the table.
/// </remarks>
[StructLayout(LayoutKind.Sequential)]
public struct ConnEntry
{
    internal FlowKey _key;

    /// <summary>Absolute time (same clock as the nowMs arguments) at which the entry expires.</summary>
    public long ExpiresAtMs;

    /// <summary><see cref="Model.Destination.Id"/> of the real server, or -1 before one is bound.</summary>
    public int DestinationId;

    internal int _templateIndex;   // template controlling this connection, -1 none
    internal int _controlled;      // for a template: live connections linked to it
    internal uint _hash;           // low half of the key's hash: its bucket (low bits) and a cheap filter on chain walks
    internal int _nextInBucket;    // hash chain, -1 end; on free slots: the free list
    internal int _lruPrev;         // LRU list, -1 end (head = least recently touched)
    internal int _lruNext;

    public ConnState State;
    public ConnFlags Flags;
    internal byte _inUse;          // 0 free; 1 live in the main LRU list, 2 live in the half-open list

    /// <summary>The entry's 5-tuple (a template's key: masked client, VIP, port 0, service port, protocol 0).</summary>
    public readonly FlowKey Key => _key;

    /// <summary>Index of the persistence template controlling this connection, or -1.</summary>
    public readonly int TemplateIndex => _templateIndex;

    /// <summary>For a template: how many live connections it controls (IPVS n_control).</summary>
    public readonly int ControlledCount => _controlled;

    public readonly bool IsTemplate => (Flags & ConnFlags.Template) != 0;

    public override readonly string ToString() =>
        $"{Key} {State.Name()} dest={DestinationId} expires={ExpiresAtMs}" + (IsTemplate ? $" controls={_controlled}" : "");
}

/// <summary>
/// Told about every entry the table removes (expiry, eviction, explicit removal), before the slot is
/// reused, so the owner can fix counters such as a destination's active/inactive connections.
/// Implemented by structs so the call is resolved at compile time.
/// </summary>
public interface IConnectionObserver
{
    void OnRemoved(ref ConnEntry entry);
}

/// <summary>An observer that does nothing.</summary>
public struct NullConnectionObserver : IConnectionObserver
{
    public readonly void OnRemoved(ref ConnEntry entry) { }
}

/// <summary>What <see cref="ConnectionTable.Add{TObserver}"/> does when every slot is taken.</summary>
public enum FullTablePolicy : byte
{
    /// <summary>Remove the least recently touched entry (never a template that still controls connections).</summary>
    EvictOldest,
    /// <summary>Refuse the new entry; the packet is dropped.</summary>
    Refuse,
}
