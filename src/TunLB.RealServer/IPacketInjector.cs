namespace TunLB.RealServer;

/// <summary>
/// Where decapsulated packets go: into the kernel's input path as if they had arrived on a device (a TUN device in
/// production, a list in tests). One packet per call: a TUN file descriptor takes one packet per write(2), and
/// writev(2) on it joins its buffers into one packet rather than batching several.
/// </summary>
public interface IPacketInjector
{
    /// <summary>Injects one IP packet; false on error (counted by the caller). Hot path: no allocation or exception.</summary>
    bool Inject(ReadOnlySpan<byte> packet);
}
