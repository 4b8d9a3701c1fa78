using TunLB.Core.DataPath;
using TunLB.Core.Packets;

namespace TunLB.Linux;

/// <summary>
/// The send side of a data-path worker: hands what <see cref="DirectorEngine"/> wrote (complete IP packets described by
/// <see cref="OutputPacket"/>s, offsets into one buffer) to the kernel. One thread sends; the counters are cumulative,
/// written by that thread and read by others for totals. Hot path: no allocation, lock, log or exception.
/// </summary>
public interface IPacketSender
{
    /// <summary>Sends every packet of the batch; one that fails is counted and skipped. Returns how many failed.</summary>
    int SendMany(ReadOnlySpan<byte> buffer, ReadOnlySpan<OutputPacket> packets);

    /// <summary>Packets of <paramref name="kind"/> sent so far.</summary>
    long SentPackets(OutputKind kind);

    /// <summary>Bytes sent so far, all kinds.</summary>
    long SentBytes { get; }
}
