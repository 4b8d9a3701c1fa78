using TunLB.Core.Packets;

namespace TunLB.Core.DataPath;

/// <summary>
/// A reusable output area for <see cref="DirectorEngine.Process(ReadOnlySpan{byte}, PacketBatch, long)"/>: one
/// pinned byte buffer and the descriptions of the packets written to it by the last call. Allocate one per worker
/// thread at start; the data path then allocates nothing.
/// </summary>
public sealed class PacketBatch
{
    /// <summary>The largest IP packet.</summary>
    public const int MaxPacket = 65535;
    /// <summary>Default number of packet slots: enough for the fragments of a 64 KiB packet at an MTU of 576.</summary>
    public const int DefaultMaxPackets = 128;

    public PacketBatch(int maxPackets = DefaultMaxPackets)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxPackets);
        // Room for a whole packet plus one outer IPv6 + fragment header per fragment.
        Buffer = GC.AllocateUninitializedArray<byte>(MaxPacket + maxPackets * (Tunnel.Ipv6HeaderLength + Tunnel.Ipv6FragmentHeaderLength), pinned: true);
        Packets = new OutputPacket[maxPackets];
    }

    public byte[] Buffer { get; }
    public OutputPacket[] Packets { get; }

    /// <summary>Packets produced by the last call.</summary>
    public int Count { get; set; }

    /// <summary>The bytes of packet <paramref name="i"/> (0 &lt;= i &lt; <see cref="Count"/>).</summary>
    public ReadOnlySpan<byte> this[int i] => Buffer.AsSpan(Packets[i].Offset, Packets[i].Length);
}
