namespace TunLB.Linux;

/// <summary>
/// What a capture backend read and lost, summed over its ports (single writers, read loosely). The workers got
/// <c>Received - DroppedTruncated - DroppedMalformed - DroppedUnsupported - SuperPackets + Segments + FromTun</c> packets.
/// </summary>
/// <param name="Backend">"xdp" or "afpacket".</param>
/// <param name="Received">AF_XDP descriptors or ring frames read.</param>
/// <param name="FromTun">Packets read from the TUN queues beside the sockets (xdp: what the kernel forwarded to a VIP).</param>
/// <param name="KernelDropped">Lost in the kernel before the process could read them (AF_XDP rx_dropped + rx_ring_full; ring full).</param>
/// <param name="SuperPackets">GSO super-packets (afpacket), each returned as <paramref name="Segments"/> in all.</param>
public readonly record struct CaptureCounters(string Backend, long Received, long FromTun, long DroppedTruncated, long DroppedMalformed,
    long DroppedUnsupported, long KernelDropped, long SuperPackets, long Segments);
