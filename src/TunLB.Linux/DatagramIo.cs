using System.Buffers.Binary;
using System.Runtime.InteropServices;
using TunLB.Core.Flows;

namespace TunLB.Linux;

/// <summary>Hot-path helpers shared by the sockets that need the sender's address (recvfrom) or an IPv6 destination.</summary>
internal static unsafe class DatagramIo
{
    /// <summary>
    /// poll(2) on the descriptor and its wake eventfd, then one recvfrom(2). Same return contract as
    /// <see cref="IPacketReceiver.Receive"/>; <paramref name="source"/> is the sender (IPv4-mapped addresses become IPv4).
    /// </summary>
    public static int ReceiveFrom(FileDescriptor handle, Span<byte> buffer, int timeoutMs, out IpAddress source, ref int lastError)
    {
        source = default;
        if (!handle.TryAcquire(out int fd)) return -1;
        int result;
        try
        {
            Interop.pollfd* fds = stackalloc Interop.pollfd[2];
            fds[0].fd = fd; fds[0].events = Interop.POLLIN; fds[0].revents = 0;
            fds[1].fd = handle.WakeFd; fds[1].events = Interop.POLLIN; fds[1].revents = 0;
            int r = Interop.poll(fds, 2, timeoutMs);
            if (r == 0) result = 0;
            else if (r < 0)
            {
                int e = Marshal.GetLastPInvokeError();
                lastError = e;
                result = e == Interop.EINTR || e == Interop.ENOMEM ? 0 : -1;
            }
            else if (fds[1].revents != 0) result = -1;
            else if ((fds[0].revents & Interop.POLLNVAL) != 0) { lastError = Interop.EBADF; result = -1; }
            else
            {
                Interop.sockaddr_in6 sa = default;   // large enough for sockaddr_in too
                uint salen = (uint)sizeof(Interop.sockaddr_in6);
                nint n;
                fixed (byte* b = buffer)
                    n = Interop.recvfrom(fd, b, (nuint)buffer.Length, Interop.MSG_DONTWAIT, &sa, &salen);
                if (n >= 0)
                {
                    result = (int)n;
                    source = FromSockaddr(&sa);
                }
                else
                {
                    int e = Marshal.GetLastPInvokeError();
                    lastError = e;
                    result = PortIo.IsFatal(e) ? -1 : 0;
                }
            }
        }
        finally
        {
            handle.Release();
        }
        if (result == 0 && handle.IsClosed) result = -1;
        return result;
    }

    /// <summary>
    /// recvmmsg(2) into <paramref name="batch"/>, contract as <see cref="IDatagramBatchReceiver.ReceiveMany"/>. When the
    /// previous batch came back full the queue is read at once; otherwise (or when that finds nothing) poll(2) on the
    /// descriptor and its wake eventfd first, so an idle socket costs poll + recvmmsg per wake-up and no failing call.
    /// </summary>
    public static int ReceiveMany(FileDescriptor handle, DatagramBatch batch, int timeoutMs, ref int lastError)
    {
        bool tryFirst = batch.WasFull;
        Interop.mmsghdr* msgs = batch.PrepareReceive();
        if (msgs == null || !handle.TryAcquire(out int fd)) return -1;
        int result;
        try
        {
            result = tryFirst ? RecvMmsg(fd, batch, msgs, ref lastError) : 0;
            if (result == 0)
            {
                result = Poll(fd, handle.WakeFd, timeoutMs, ref lastError);
                if (result > 0) result = RecvMmsg(fd, batch, msgs, ref lastError);
            }
        }
        finally
        {
            handle.Release();
        }
        if (result == 0 && handle.IsClosed) result = -1;
        return result;
    }

    /// <summary>One non-blocking recvmmsg: the count, 0 when nothing is queued or on a transient error, -1 when fatal.</summary>
    private static int RecvMmsg(int fd, DatagramBatch batch, Interop.mmsghdr* msgs, ref int lastError)
    {
        int n = Interop.recvmmsg(fd, msgs, (uint)batch.Capacity, Interop.MSG_DONTWAIT, null);
        if (n >= 0) { batch.Received(n); return n; }
        int e = Marshal.GetLastPInvokeError();
        if (e == Interop.EAGAIN || e == Interop.EINTR) return 0;
        lastError = e;
        return PortIo.IsFatal(e) ? -1 : 0;
    }

    /// <summary>poll(2) on the descriptor and the wake eventfd: 1 readable, 0 timeout or transient error, -1 closed or fatal.</summary>
    private static int Poll(int fd, int wakeFd, int timeoutMs, ref int lastError)
    {
        Interop.pollfd* fds = stackalloc Interop.pollfd[2];
        fds[0].fd = fd; fds[0].events = Interop.POLLIN; fds[0].revents = 0;
        fds[1].fd = wakeFd; fds[1].events = Interop.POLLIN; fds[1].revents = 0;
        int r = Interop.poll(fds, 2, timeoutMs);
        if (r == 0) return 0;
        if (r < 0)
        {
            int e = Marshal.GetLastPInvokeError();
            lastError = e;
            return e == Interop.EINTR || e == Interop.ENOMEM ? 0 : -1;
        }
        if (fds[1].revents != 0) return -1;
        if ((fds[0].revents & Interop.POLLNVAL) != 0) { lastError = Interop.EBADF; return -1; }
        return 1;
    }

    public static IpAddress FromSockaddr(Interop.sockaddr_in6* sa)
    {
        if (sa->sin6_family == Interop.AF_INET)
        {
            var v4 = (Interop.sockaddr_in*)sa;
            uint a = v4->sin_addr.s_addr;
            return IpAddress.FromV4(BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(a) : a);
        }
        return IpAddress.FromV6Bytes(new ReadOnlySpan<byte>(sa->sin6_addr.s6_addr, 16));
    }

    public static Interop.sockaddr_in6 Sockaddr6(in IpAddress address, ushort port)
    {
        Interop.sockaddr_in6 sa = default;
        sa.sin6_family = Interop.AF_INET6;
        sa.sin6_port = BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(port) : port;
        address.WriteV6(new Span<byte>(sa.sin6_addr.s6_addr, 16));
        return sa;
    }

    public static Interop.sockaddr_in Sockaddr4(in IpAddress address, ushort port)
    {
        Interop.sockaddr_in sa = default;
        sa.sin_family = Interop.AF_INET;
        sa.sin_port = BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(port) : port;
        sa.sin_addr.s_addr = BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(address.V4) : address.V4;
        return sa;
    }
}
