using System.Runtime.InteropServices;

namespace TunLB.Linux;

/// <summary>
/// The shared hot-path receive loop body. Under load a packet is usually already queued, so first try one
/// non-blocking read (one system call per packet); only when the queue is empty poll(2) on the descriptor and
/// the wake eventfd, then read. Every port's descriptor is non-blocking (TUN opened O_NONBLOCK, sockets read
/// with MSG_DONTWAIT).
/// </summary>
internal static unsafe class PortIo
{
    /// <summary>See <see cref="IPacketReceiver.Receive"/>. <paramref name="isSocket"/> selects recv(MSG_DONTWAIT) over read.</summary>
    public static int Receive(FileDescriptor handle, Span<byte> buffer, int timeoutMs, bool isSocket, ref int lastError)
    {
        if (!handle.TryAcquire(out int fd)) return -1;
        int result;
        try
        {
            nint first;
            fixed (byte* b = buffer)
            {
                first = isSocket
                    ? Interop.recv(fd, b, (nuint)buffer.Length, Interop.MSG_DONTWAIT)
                    : Interop.read(fd, b, (nuint)buffer.Length);
            }
            if (first >= 0) return (int)first;
            int fe = Marshal.GetLastPInvokeError();
            if (fe != Interop.EAGAIN && fe != Interop.EINTR)
            {
                lastError = fe;
                return IsFatal(fe) ? -1 : 0;
            }

            result = WaitReadable(fd, handle.WakeFd, timeoutMs, ref lastError);
            if (result > 0)
            {
                nint n;
                fixed (byte* b = buffer)
                {
                    n = isSocket
                        ? Interop.recv(fd, b, (nuint)buffer.Length, Interop.MSG_DONTWAIT)
                        : Interop.read(fd, b, (nuint)buffer.Length);
                }
                if (n >= 0)
                {
                    result = (int)n;
                }
                else
                {
                    int e = Marshal.GetLastPInvokeError();
                    lastError = e;
                    result = IsFatal(e) ? -1 : 0;
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
    /// poll(2) on <paramref name="fd"/> and the port's wake eventfd: 1 when the descriptor is ready (a POLLERR is noted
    /// in <paramref name="lastError"/> as EIO, and the caller reads on), 0 on timeout or a transient error (EINTR,
    /// ENOMEM), -1 when Dispose was called or the poll failed for good. Every receive path waits through this.
    /// </summary>
    public static int WaitReadable(int fd, int wakeFd, int timeoutMs, ref int lastError)
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
        if (fds[1].revents != 0) return -1; // Dispose was called
        if ((fds[0].revents & Interop.POLLNVAL) != 0) { lastError = Interop.EBADF; return -1; }
        if ((fds[0].revents & Interop.POLLERR) != 0) lastError = Interop.EIO; // e.g. the device went away
        return 1;
    }

    /// <summary>Errors after which the descriptor is of no further use (device gone, descriptor invalid).</summary>
    public static bool IsFatal(int errno) =>
        errno is Interop.EBADF or Interop.EBADFD or Interop.ENODEV or Interop.ENXIO or Interop.EFAULT or Interop.EINVAL;
}
