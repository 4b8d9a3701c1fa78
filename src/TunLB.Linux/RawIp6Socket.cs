using System.Runtime.InteropServices;
using TunLB.Core.Flows;

namespace TunLB.Linux;

/// <summary>
/// An AF_INET6 SOCK_RAW socket, the IPv6 counterpart of <see cref="RawIpSocket"/>.
/// <list type="bullet">
/// <item><see cref="OpenSender"/>: IPPROTO_RAW, which on Linux implies IPV6_HDRINCL: <see cref="Send"/> takes a complete
/// IPv6 packet (header included) and sendto's address (the next hop) picks the route. The kernel neither fragments
/// such packets nor fills any header field: a packet beyond the route MTU fails with EMSGSIZE, so the engine's
/// per-server MTU must be set.</item>
/// <item><see cref="OpenReceiver"/>: a protocol such as 4 (IPv4-in-IPv6) or 41 (IPv6-in-IPv6). IPv6 raw sockets deliver
/// the payload <b>without</b> the IPv6 header (and after reassembly); <see cref="ReceiveFrom"/> reports the sender.</item>
/// </list>
/// The socket belongs to the network namespace of the thread that opened it. Hot path: no allocation, exceptions or locks.
/// </summary>
public sealed unsafe class RawIp6Socket : IPacketReceiver, IDatagramBatchReceiver
{
    private readonly FileDescriptor _fd;
    private int _lastError;
    private int _timeoutSetMs = int.MinValue; // SO_RCVTIMEO as last set by ReceiveMany

    private RawIp6Socket(FileDescriptor fd, string name) { _fd = fd; Name = name; }

    public string Name { get; }
    public int LastError => _lastError;

    /// <summary>AF_INET6 / SOCK_RAW / IPPROTO_RAW: send-only, header included.</summary>
    public static RawIp6Socket OpenSender() => Create(Interop.IPPROTO_RAW, "raw6 sender");

    /// <summary>
    /// AF_INET6 / SOCK_RAW / <paramref name="protocol"/>: receives the payloads of that next header.
    /// <paramref name="receiveBufferBytes"/> &gt; 0 sets SO_RCVBUF (and SO_RCVBUFFORCE, which passes net.core.rmem_max when allowed).
    /// </summary>
    public static RawIp6Socket OpenReceiver(byte protocol, int receiveBufferBytes = 0)
    {
        if (protocol == Interop.IPPROTO_RAW) throw new ArgumentException("IPPROTO_RAW sockets cannot receive; use OpenSender.", nameof(protocol));
        var s = Create(protocol, $"raw6 receiver proto {protocol}");
        if (receiveBufferBytes > 0)
        {
            int fd = s._fd.DangerousGetFd();
            Interop.setsockopt(fd, Interop.SOL_SOCKET, Interop.SO_RCVBUF, &receiveBufferBytes, sizeof(int));
            Interop.setsockopt(fd, Interop.SOL_SOCKET, Interop.SO_RCVBUFFORCE, &receiveBufferBytes, sizeof(int));
        }
        return s;
    }

    private static RawIp6Socket Create(int protocol, string name)
    {
        int fd = Interop.socket(Interop.AF_INET6, Interop.SOCK_RAW | Interop.SOCK_CLOEXEC, protocol);
        if (fd < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            string hint = errno == Interop.EPERM ? " (needs CAP_NET_RAW)" : errno == Interop.EAFNOSUPPORT ? " (IPv6 disabled?)" : "";
            throw new NativeErrorException($"socket(AF_INET6, SOCK_RAW, {protocol}){hint}", errno);
        }
        return new RawIp6Socket(new FileDescriptor(fd) { ShutdownOnClose = true }, name);
    }

    /// <summary>Receives one payload (no IPv6 header); the sender is not reported. See <see cref="ReceiveFrom"/>.</summary>
    public int Receive(Span<byte> buffer, int timeoutMs) => DatagramIo.ReceiveFrom(_fd, buffer, timeoutMs, out _, ref _lastError);

    /// <summary>Receives one payload and its sender (the outer IPv6 source). Contract as <see cref="IPacketReceiver.Receive"/>.</summary>
    public int ReceiveFrom(Span<byte> buffer, int timeoutMs, out IpAddress source) =>
        DatagramIo.ReceiveFrom(_fd, buffer, timeoutMs, out source, ref _lastError);

    /// <summary>
    /// Sends one complete IPv6 packet toward <paramref name="nextHop"/> (IPv6). Returns false on error (errno in
    /// <see cref="LastError"/>; EAFNOSUPPORT for an IPv4 next hop, EMSGSIZE beyond the route MTU).
    /// </summary>
    public bool Send(ReadOnlySpan<byte> packet, in IpAddress nextHop)
    {
        if (nextHop.IsV4) { _lastError = Interop.EAFNOSUPPORT; return false; }
        if (!_fd.TryAcquire(out int fd)) { _lastError = Interop.EBADF; return false; }
        nint n;
        try
        {
            Interop.sockaddr_in6 sa = DatagramIo.Sockaddr6(nextHop, 0);
            fixed (byte* p = packet)
                n = Interop.sendto(fd, p, (nuint)packet.Length, Interop.MSG_DONTWAIT, &sa, (uint)sizeof(Interop.sockaddr_in6));
            if (n < 0) _lastError = Marshal.GetLastPInvokeError();
        }
        finally
        {
            _fd.Release();
        }
        return n == packet.Length;
    }

    /// <summary>Receives up to a batch of payloads (no IPv6 header) and their senders with recvmmsg(2). See <see cref="IDatagramBatchReceiver.ReceiveMany"/>.</summary>
    public int ReceiveMany(DatagramBatch batch, int timeoutMs) => DatagramIo.ReceiveMany(_fd, batch, timeoutMs, ref _lastError, ref _timeoutSetMs);

    public void Dispose() => _fd.Close();
    public override string ToString() => Name;
}
