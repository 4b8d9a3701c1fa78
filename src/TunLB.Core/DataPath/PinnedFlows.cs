using System.Runtime.CompilerServices;

namespace TunLB.Core.DataPath;

/// <summary>
/// The pinned-flow table: health-check sockets of the director itself, identified by their local source port
/// (from a reserved range) and protocol, each bound to ONE destination. The engine forwards their packets to
/// that destination without scheduling, connection entries or service counters, so a check sent to VIP:port
/// travels the data path and the tunnel to exactly the real server it checks.
/// </summary>
/// <remarks>
/// A fixed array indexed by port offset. Registration (any thread) is one volatile 64-bit store; the data-path
/// lookup is a range check, an array read and a compare: no allocation, no lock.
/// Slot value: 0 = free, else ((destinationId + 1) &lt;&lt; 8) | protocol.
/// </remarks>
public sealed class PinnedFlows
{
    private readonly long[] _slots;

    public PinnedFlows(ushort firstPort, int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(firstPort + count - 1, 65535, nameof(count));
        FirstPort = firstPort;
        _slots = new long[count];
    }

    public ushort FirstPort { get; }
    public int Count => _slots.Length;
    public ushort LastPort => (ushort)(FirstPort + _slots.Length - 1);

    /// <summary>Packets forwarded as pinned flows (written by the data-path worker).</summary>
    public long Packets;

    public bool Contains(ushort port) => (uint)(port - FirstPort) < (uint)_slots.Length;

    /// <summary>Pins (<paramref name="port"/>, <paramref name="protocol"/>) to a destination id.</summary>
    public void Pin(ushort port, byte protocol, int destinationId)
    {
        if (!Contains(port)) throw new ArgumentOutOfRangeException(nameof(port), $"port {port} is outside {FirstPort}-{LastPort}");
        ArgumentOutOfRangeException.ThrowIfNegative(destinationId);
        Volatile.Write(ref _slots[port - FirstPort], ((long)(destinationId + 1) << 8) | protocol);
    }

    /// <summary>Frees a port's slot.</summary>
    public void Unpin(ushort port)
    {
        if (Contains(port)) Volatile.Write(ref _slots[port - FirstPort], 0);
    }

    /// <summary>The destination id pinned for a packet's source port and protocol, or -1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Lookup(ushort sourcePort, byte protocol)
    {
        uint i = (uint)(sourcePort - FirstPort);
        var slots = _slots;
        if (i >= (uint)slots.Length) return -1;
        long v = Volatile.Read(ref slots[i]);
        if (v == 0 || (byte)v != protocol) return -1;
        return (int)(v >> 8) - 1;
    }
}
