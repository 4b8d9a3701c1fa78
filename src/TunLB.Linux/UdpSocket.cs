using System.Runtime.InteropServices;
using TunLB.Core.Flows;

namespace TunLB.Linux;

/// <summary>
/// A plain UDP socket for the real server's GUE receiver: bound to a port on every address, dual-stack
/// (AF_INET6 with IPV6_V6ONLY off, so IPv4 senders appear as IPv4) or IPv4-only when the host has no IPv6.
/// <see cref="ReceiveFrom"/> returns the UDP payload and its sender without allocating. Needs no privilege for
/// ports at or above net.ipv4.ip_unprivileged_port_start.
/// </summary>
public sealed unsafe class UdpSocket : IDatagramBatchReceiver
{
    private readonly FileDescriptor _fd;
    private int _lastError;
    private int _timeoutSetMs = int.MinValue; // SO_RCVTIMEO as last set by ReceiveMany

    private UdpSocket(FileDescriptor fd, string name) { _fd = fd; Name = name; }

    public string Name { get; }
    public int LastError => _lastError;

    /// <summary>Opens and binds [::]:<paramref name="port"/> (falling back to 0.0.0.0 when IPv6 is unavailable).</summary>
    public static UdpSocket Bind(ushort port, int receiveBufferBytes = 0)
    {
        const int type = Interop.SOCK_DGRAM | Interop.SOCK_CLOEXEC;
        int fd = Interop.socket(Interop.AF_INET6, type, Interop.IPPROTO_UDP);
        bool v6 = fd >= 0;
        if (!v6) fd = Interop.socket(Interop.AF_INET, type, Interop.IPPROTO_UDP);
        if (fd < 0) throw NativeErrorException.FromLastError("socket(SOCK_DGRAM, IPPROTO_UDP)");
        var s = new UdpSocket(new FileDescriptor(fd) { ShutdownOnClose = true }, $"udp :{port}");
        try
        {
            int zero = 0, one = 1;
            Interop.setsockopt(fd, Interop.SOL_SOCKET, Interop.SO_REUSEADDR, &one, sizeof(int));
            if (receiveBufferBytes > 0)
            {
                Interop.setsockopt(fd, Interop.SOL_SOCKET, Interop.SO_RCVBUF, &receiveBufferBytes, sizeof(int));
                Interop.setsockopt(fd, Interop.SOL_SOCKET, Interop.SO_RCVBUFFORCE, &receiveBufferBytes, sizeof(int));
            }
            int rc;
            if (v6)
            {
                if (Interop.setsockopt(fd, Interop.IPPROTO_IPV6, Interop.IPV6_V6ONLY, &zero, sizeof(int)) < 0)
                    throw NativeErrorException.FromLastError("setsockopt IPV6_V6ONLY");
                var sa = DatagramIo.Sockaddr6(default, port);
                rc = Interop.bind(fd, &sa, (uint)sizeof(Interop.sockaddr_in6));
            }
            else
            {
                var sa = DatagramIo.Sockaddr4(IpAddress.FromV4(0), port);
                rc = Interop.bind(fd, &sa, (uint)sizeof(Interop.sockaddr_in));
            }
            if (rc < 0) throw NativeErrorException.FromLastError($"bind udp port {port}");
        }
        catch { s.Dispose(); throw; }
        return s;
    }

    /// <summary>Receives one datagram's payload and its sender. Contract as <see cref="IPacketReceiver.Receive"/>.</summary>
    public int ReceiveFrom(Span<byte> buffer, int timeoutMs, out IpAddress source) =>
        DatagramIo.ReceiveFrom(_fd, buffer, timeoutMs, out source, ref _lastError);

    /// <summary>Receives up to a batch of UDP payloads and their senders with recvmmsg(2). See <see cref="IDatagramBatchReceiver.ReceiveMany"/>.</summary>
    public int ReceiveMany(DatagramBatch batch, int timeoutMs) => DatagramIo.ReceiveMany(_fd, batch, timeoutMs, ref _lastError, ref _timeoutSetMs);

    public void Dispose() => _fd.Close();
    public override string ToString() => Name;
}
