namespace TunLB.Linux.Xdp;

/// <summary>
/// The TX ring of an AF_XDP socket the capture opened (<see cref="XskSocket"/>) as an <see cref="ILinkTransmitter"/>:
/// tunnel packets to a next hop on the capture device leave through the UMEM's TX frames, one sendto per 32 frames in
/// copy mode (none in zero-copy mode unless the driver asks for a wake-up). Only the worker that reads the socket may
/// send through it: the rings have one producer each. Disposing does not close the socket (the capture owns it).
/// </summary>
public sealed class XskTransmitter(XskSocket socket) : ILinkTransmitter
{
    public XskSocket Socket { get; } = socket;
    public int IfIndex => Socket.IfIndex;
    public string Kind => "af_xdp";
    public int Pending => Socket.Pending;
    public long Queued => Socket.TxQueued;
    public long Rejected => Socket.TxKickErrors;

    public bool TryQueue(ReadOnlySpan<byte> linkHeader, ReadOnlySpan<byte> packet) => Socket.Send(linkHeader, packet);

    public bool Flush() => Socket.Pending == 0 && Socket.TxQueued == Socket.TxCompleted || Socket.Flush();

    public void Dispose() { }

    public override string ToString() => $"AF_XDP TX on ifindex {IfIndex} queue {Socket.QueueId}";
}
