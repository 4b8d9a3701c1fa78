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
