using System.Buffers.Binary;
using System.Runtime.InteropServices;
using TunLB.Core.Flows;
using TunLB.Core.Packets;

namespace TunLB.Linux;

/// <summary>
/// An AF_INET SOCK_RAW socket. Sends always carry the caller's complete IPv4 header (IP_HDRINCL) and go through
/// sendto(2) toward the next hop given to <see cref="Send"/>, which picks the route (the header's destination may differ).
/// A receiver socket gets every incoming IPv4 packet of its protocol, outer header included.
/// The socket belongs to the network namespace of the thread that opened it.
/// </summary>
public sealed unsafe class RawIpSocket : IPacketReceiver, IDatagramBatchReceiver
{
    private readonly FileDescriptor _fd;
    private int _lastError;
    private int _timeoutSetMs = int.MinValue; // SO_RCVTIMEO as last set by ReceiveMany

    private RawIpSocket(FileDescriptor fd, string name)
    {
        _fd = fd;
        Name = name;
    }

    public string Name { get; }

    public int LastError => _lastError;

    /// <summary>
    /// AF_INET / SOCK_RAW / IPPROTO_RAW: a send-only socket (IP_HDRINCL is implied); we supply the full IPv4 header.
    /// The kernel still fills in the header checksum and total length, the identification when it is 0 and the
    /// source when it is 0.0.0.0. It never receives anything.
    /// </summary>
    public static RawIpSocket OpenSender(int sendBufferBytes = 0)
    {
        var s = Create(Interop.IPPROTO_RAW, "raw sender");
        try
        {
            if (sendBufferBytes > 0) s.SetBufferSize(Interop.SO_SNDBUF, Interop.SO_SNDBUFFORCE, sendBufferBytes);
        }
        catch { s.Dispose(); throw; }
        return s;
    }

    /// <summary>
    /// AF_INET / SOCK_RAW / <paramref name="protocol"/> (e.g. 4 for IPIP): receives every incoming IPv4 packet of that
    /// protocol, outer header included, optionally only those addressed to <paramref name="bindAddress"/>.
    /// <paramref name="receiveBufferBytes"/> &gt; 0 sets SO_RCVBUF (SO_RCVBUFFORCE when above net.core.rmem_max and allowed).
    /// IP_HDRINCL is set too, so <see cref="Send"/> on this socket also takes a complete IPv4 packet.
    /// </summary>
    public static RawIpSocket OpenReceiver(byte protocol, IpAddress? bindAddress = null, int receiveBufferBytes = 0)
    {
        if (protocol == Interop.IPPROTO_RAW) throw new ArgumentException("IPPROTO_RAW sockets cannot receive; use OpenSender.", nameof(protocol));
        var s = Create(protocol, $"raw receiver proto {protocol}");
        try
        {
            int one = 1;
            if (Interop.setsockopt(s._fd.DangerousGetFd(), Interop.SOL_IP, Interop.IP_HDRINCL, &one, sizeof(int)) < 0)
                throw NativeErrorException.FromLastError("setsockopt IP_HDRINCL");
            if (receiveBufferBytes > 0) s.SetReceiveBufferSize(receiveBufferBytes);
            if (bindAddress is { } a) s.Bind(a);
        }
        catch { s.Dispose(); throw; }
        return s;
    }

    private static RawIpSocket Create(int protocol, string name)
    {
        int fd = Interop.socket(Interop.AF_INET, Interop.SOCK_RAW | Interop.SOCK_CLOEXEC, protocol);
        if (fd < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            string hint = errno == Interop.EPERM ? " (needs CAP_NET_RAW)" : "";
            throw new NativeErrorException($"socket(AF_INET, SOCK_RAW, {protocol}){hint}", errno);
        }
        return new RawIpSocket(new FileDescriptor(fd) { ShutdownOnClose = true }, name);
    }

    /// <summary>Restricts received packets to those whose destination is <paramref name="address"/> (bind(2)).</summary>
    public void Bind(IpAddress address)
    {
        if (!address.IsV4) throw new ArgumentException("Only IPv4 addresses can be bound.", nameof(address));
        Interop.sockaddr_in sa = MakeSockaddr(address);
        if (Interop.bind(_fd.DangerousGetFd(), &sa, (uint)sizeof(Interop.sockaddr_in)) < 0)
            throw NativeErrorException.FromLastError($"bind {address}");
    }

    /// <summary>
    /// Sets SO_RCVBUF to <paramref name="bytes"/>; when that is capped by net.core.rmem_max and the process has
    /// CAP_NET_ADMIN, SO_RCVBUFFORCE is used. Returns the size the kernel reports (it doubles the request for overhead).
    /// </summary>
    public int SetReceiveBufferSize(int bytes) => SetBufferSize(Interop.SO_RCVBUF, Interop.SO_RCVBUFFORCE, bytes);

    /// <summary>SO_RCVBUF as reported by getsockopt(2).</summary>
    public int ReceiveBufferSize => GetIntOption(Interop.SOL_SOCKET, Interop.SO_RCVBUF);

    private int SetBufferSize(int option, int forceOption, int bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bytes);
        int fd = _fd.DangerousGetFd();
        if (Interop.setsockopt(fd, Interop.SOL_SOCKET, option, &bytes, sizeof(int)) < 0)
            throw NativeErrorException.FromLastError($"setsockopt {option}");
        int actual = GetIntOption(Interop.SOL_SOCKET, option);
        if (actual / 2 < bytes)
        {
            // Capped by rmem_max/wmem_max: try the privileged variant, keep the capped size if not permitted.
            if (Interop.setsockopt(fd, Interop.SOL_SOCKET, forceOption, &bytes, sizeof(int)) == 0)
                actual = GetIntOption(Interop.SOL_SOCKET, option);
        }
        return actual;
    }

    private int GetIntOption(int level, int option)
    {
        int value = 0;
        uint len = sizeof(int);
        if (Interop.getsockopt(_fd.DangerousGetFd(), level, option, &value, &len) < 0)
            throw NativeErrorException.FromLastError($"getsockopt {option}");
        return value;
    }

    /// <summary>Receives one whole IPv4 packet (header included). See <see cref="IPacketReceiver.Receive"/>.</summary>
    public int Receive(Span<byte> buffer, int timeoutMs) => PortIo.Receive(_fd, buffer, timeoutMs, isSocket: true, ref _lastError);

    /// <summary>
    /// Sends one complete IPv4 packet with sendto(2) to <paramref name="nextHop"/>, which selects the route and
    /// neighbour. Returns false on error (errno in <see cref="LastError"/>; EAFNOSUPPORT for an IPv6 next hop).
    /// </summary>
    public bool Send(ReadOnlySpan<byte> packet, in IpAddress nextHop)
    {
        if (!nextHop.IsV4) { _lastError = Interop.EAFNOSUPPORT; return false; }
        if (!_fd.TryAcquire(out int fd)) { _lastError = Interop.EBADF; return false; }
        nint n;
        try
        {
            Interop.sockaddr_in sa = MakeSockaddr(nextHop);
            fixed (byte* p = packet)
                n = Interop.sendto(fd, p, (nuint)packet.Length, Interop.MSG_DONTWAIT, &sa, (uint)sizeof(Interop.sockaddr_in));
            if (n < 0) _lastError = Marshal.GetLastPInvokeError();
        }
        finally
        {
            _fd.Release();
        }
        return n == packet.Length;
    }

    /// <summary>The most datagrams handed to one sendmmsg(2) call (stack space: 64 x (64 + 16 + 16) bytes).</summary>
    public const int MaxBatch = 64;

    /// <summary>
    /// Sends IPv4 packets <paramref name="packets"/>[i] (offsets into <paramref name="buffer"/>) with sendmmsg(2),
    /// up to <see cref="MaxBatch"/> per system call. Returns how many were sent; they are sent in order, so the
    /// rest (from the first failure) were not. No allocation.
    /// </summary>
    public int SendMany(ReadOnlySpan<byte> buffer, ReadOnlySpan<OutputPacket> packets)
    {
        if (!_fd.TryAcquire(out int fd)) { _lastError = Interop.EBADF; return 0; }
        int sent = 0;
        try
        {
            Interop.mmsghdr* msgs = stackalloc Interop.mmsghdr[MaxBatch];
            Interop.iovec* iov = stackalloc Interop.iovec[MaxBatch];
            Interop.sockaddr_in* names = stackalloc Interop.sockaddr_in[MaxBatch];
            fixed (byte* basePtr = buffer)
            {
                while (sent < packets.Length)
                {
                    int n = Math.Min(MaxBatch, packets.Length - sent);
                    for (int i = 0; i < n; i++)
                    {
                        ref readonly OutputPacket o = ref packets[sent + i];
                        if (!o.NextHop.IsV4) { _lastError = Interop.EAFNOSUPPORT; n = i; break; }
                        names[i] = MakeSockaddr(o.NextHop);
                        iov[i].iov_base = basePtr + o.Offset;
                        iov[i].iov_len = (nuint)o.Length;
                        msgs[i] = default;
                        msgs[i].msg_hdr.msg_name = &names[i];
                        msgs[i].msg_hdr.msg_namelen = (uint)sizeof(Interop.sockaddr_in);
                        msgs[i].msg_hdr.msg_iov = &iov[i];
                        msgs[i].msg_hdr.msg_iovlen = 1;
                    }
                    if (n == 0) break;
                    int r = Interop.sendmmsg(fd, msgs, (uint)n, Interop.MSG_DONTWAIT);
                    if (r <= 0) { _lastError = r < 0 ? Marshal.GetLastPInvokeError() : _lastError; break; }
                    sent += r;
                    if (r < n) break;
                }
            }
        }
        finally
        {
            _fd.Release();
        }
        return sent;
    }

    private static Interop.sockaddr_in MakeSockaddr(in IpAddress address)
    {
        Interop.sockaddr_in sa = default;
        sa.sin_family = Interop.AF_INET;
        sa.sin_addr.s_addr = BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(address.V4) : address.V4;
        return sa;
    }

    /// <summary>Receives up to a batch of whole IPv4 packets (headers included) with recvmmsg(2). See <see cref="IDatagramBatchReceiver.ReceiveMany"/>.</summary>
    public int ReceiveMany(DatagramBatch batch, int timeoutMs) => DatagramIo.ReceiveMany(_fd, batch, timeoutMs, ref _lastError, ref _timeoutSetMs);

    public void Dispose() => _fd.Close();

    public override string ToString() => Name;
}
