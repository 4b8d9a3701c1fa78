using TunLB.Core.Flows;

namespace TunLB.Director.Sync;

/// <summary>The sync service's datagram socket: a UDP socket (<see cref="UdpSyncTransport"/>) or an in-memory pair in tests.</summary>
public interface ISyncTransport : IDisposable
{
    /// <summary>One datagram's payload into <paramref name="buffer"/> and its sender; 0 after <paramref name="timeoutMs"/>, -1 when closed.</summary>
    int Receive(Span<byte> buffer, int timeoutMs, out IpAddress from);

    /// <summary>Sends one datagram to <paramref name="peer"/>; false when the kernel refused it (counted, never thrown).</summary>
    bool Send(ReadOnlySpan<byte> datagram, IpAddress peer);
}
