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
            result = PortIo.WaitReadable(fd, handle.WakeFd, timeoutMs, ref lastError);
            if (result > 0)
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
    /// previous batch came back full the queue is read at once without waiting. Otherwise one blocking recvmmsg with
    /// MSG_WAITFORONE waits (SO_RCVTIMEO = the timeout, set only when it changes: <paramref name="timeoutSetMs"/>) for the
    /// first datagram and takes what is queued behind it: one system call per wake-up, where poll + recvmmsg were two.
    /// The descriptor must be opened with <see cref="FileDescriptor.ShutdownOnClose"/>, so that Dispose wakes the wait.
    /// </summary>
    public static int ReceiveMany(FileDescriptor handle, DatagramBatch batch, int timeoutMs, ref int lastError, ref int timeoutSetMs)
    {
        bool tryFirst = batch.WasFull || timeoutMs == 0;
        Interop.mmsghdr* msgs = batch.PrepareReceive();
        if (msgs == null || !handle.TryAcquire(out int fd)) return -1;
        int result;
        try
        {
            result = tryFirst ? RecvMmsg(fd, batch, msgs, Interop.MSG_DONTWAIT, ref lastError) : 0;
            if (result == 0 && timeoutMs != 0)
            {
                if (timeoutMs != timeoutSetMs)
                {
                    // Negative = wait for ever (0 in SO_RCVTIMEO); Dispose still wakes it through shutdown(2).
                    var tv = timeoutMs < 0 ? default : new Interop.timeval { tv_sec = timeoutMs / 1000, tv_usec = timeoutMs % 1000 * 1000L };
                    if (Interop.setsockopt(fd, Interop.SOL_SOCKET, Interop.SO_RCVTIMEO, &tv, (uint)sizeof(Interop.timeval)) == 0)
                        timeoutSetMs = timeoutMs;
                    else
                        lastError = Marshal.GetLastPInvokeError();
                }
                result = RecvMmsg(fd, batch, msgs, Interop.MSG_WAITFORONE, ref lastError);
            }
        }
        finally
        {
            handle.Release();
        }
        // Closed while waiting: shutdown(2) made the wait return (possibly with one empty "datagram").
        if (handle.IsClosed) return -1;
        return result;
    }

    /// <summary>One recvmmsg with <paramref name="flags"/>: the count, 0 when nothing came (timeout) or on a transient error, -1 when fatal.</summary>
    private static int RecvMmsg(int fd, DatagramBatch batch, Interop.mmsghdr* msgs, int flags, ref int lastError)
    {
        int n = Interop.recvmmsg(fd, msgs, (uint)batch.Capacity, flags, null);
        if (n >= 0) { batch.Received(n); return n; }
        int e = Marshal.GetLastPInvokeError();
        if (e == Interop.EAGAIN || e == Interop.EINTR) return 0;
        lastError = e;
        return PortIo.IsFatal(e) ? -1 : 0;
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
