namespace TunLB.Linux;

/// <summary>
/// A memory-mapped transmit queue toward one Ethernet device: whole frames are written into shared memory and handed
/// to the kernel in batches, one system call per <see cref="Flush"/> (<see cref="PacketTxRing"/>: PACKET_TX_RING;
/// <see cref="XskTransmitter"/>: an AF_XDP socket's TX ring). One thread queues and flushes.
/// Hot path: no allocation, lock, log or exception.
/// </summary>
public interface ILinkTransmitter : IDisposable
{
    /// <summary>The device the frames leave through.</summary>
    int IfIndex { get; }

    /// <summary>
    /// Queues the frame <paramref name="linkHeader"/> + <paramref name="packet"/>; nothing leaves before <see cref="Flush"/>.
    /// False when it cannot take it now (every slot in flight, or the frame is too big): the caller sends it another way.
    /// </summary>
    bool TryQueue(ReadOnlySpan<byte> linkHeader, ReadOnlySpan<byte> packet);

    /// <summary>Frames queued and not yet flushed.</summary>
    int Pending { get; }

    /// <summary>Hands the queued frames to the kernel. False when the kick failed for another reason than "busy".</summary>
    bool Flush();

    /// <summary>Frames handed over so far, and frames the kernel reported it could not send (counted when seen).</summary>
    long Queued { get; }
    long Rejected { get; }

    /// <summary>Short name for the startup line and the API ("tx ring", "af_xdp").</summary>
    string Kind { get; }
}
