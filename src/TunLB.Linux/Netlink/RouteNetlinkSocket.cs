using System.Runtime.InteropServices;
using TunLB.Core.Flows;

namespace TunLB.Linux.Netlink;

/// <summary>
/// A NETLINK_ROUTE socket that asks the kernel what `ip route get`, `ip neigh show` and `ip link show` print, in the
/// network namespace of the thread that opened it. One caller at a time (<see cref="NextHopTable"/> holds a lock);
/// any error throws, after which the owner disposes it and opens a new one, so no stale answer is ever read.
/// </summary>
internal sealed unsafe class RouteNetlinkSocket : IDisposable
{
    // Route lookups sent in one sendto: each answer takes about 1 KiB of the socket's receive buffer (reply plus skb
    // overhead), so 64 of them fit even the default rmem_max (208 KiB) when SO_RCVBUFFORCE is not allowed.
    private const int RouteBatch = 64;
    private const int ReceiveBufferBytes = 1 << 20;
    // Dump datagrams are at most 32 KiB (the kernel sizes them to the reader's buffer up to that).
    private const int DatagramBytes = 64 * 1024;
    // The kernel answers from within sendto/recvfrom; a second is only waited when something is badly wrong.
    private const int AnswerTimeoutMs = 1000;

    private readonly int _fd;
    private readonly byte[] _receive = new byte[DatagramBytes];
    private readonly byte[] _send;
    private uint _seq;
    private bool _disposed;

    private RouteNetlinkSocket(int fd)
    {
        _fd = fd;
        _send = new byte[RouteBatch * RtnetlinkRequests.MaxLength];
    }

    public static RouteNetlinkSocket Open()
    {
        int fd = Interop.socket(Interop.AF_NETLINK, Interop.SOCK_RAW | Interop.SOCK_CLOEXEC, Interop.NETLINK_ROUTE);
        if (fd < 0) throw NativeErrorException.FromLastError("socket(AF_NETLINK, NETLINK_ROUTE)");
        var s = new RouteNetlinkSocket(fd);
        try
        {
            int size = ReceiveBufferBytes;
            if (Interop.setsockopt(fd, Interop.SOL_SOCKET, Interop.SO_RCVBUFFORCE, &size, sizeof(int)) < 0)
                Interop.setsockopt(fd, Interop.SOL_SOCKET, Interop.SO_RCVBUF, &size, sizeof(int)); // capped at rmem_max: fine
            var local = new Interop.sockaddr_nl { nl_family = Interop.AF_NETLINK }; // nl_pid 0: the kernel picks our port id
            if (Interop.bind(fd, &local, (uint)sizeof(Interop.sockaddr_nl)) < 0) throw NativeErrorException.FromLastError("bind netlink");
        }
        catch { s.Dispose(); throw; }
        return s;
    }

    /// <summary>
    /// The route toward each destination (from the given source when it is of the same family). A destination the
    /// kernel answers with an error (unreachable, prohibited, a source that is not ours) is left out, as `ip -force
    /// -batch` leaves it out.
    /// </summary>
    public void GetRoutes(ReadOnlySpan<(IpAddress Destination, IpAddress Source)> wanted, List<KernelRoute> into)
    {
        Span<bool> answered = stackalloc bool[RouteBatch];
        for (int start = 0; start < wanted.Length; start += RouteBatch)
        {
            var batch = wanted.Slice(start, Math.Min(RouteBatch, wanted.Length - start));
            uint first = _seq + 1;
            int length = 0;
            foreach (var (dst, src) in batch) length += RtnetlinkRequests.RouteGet(_send.AsSpan(length), ++_seq, dst, src);
            Send(length);
            answered.Clear();
            int pending = batch.Length;
            while (pending > 0)
            {
                var reader = new NetlinkMessageReader(_receive.AsSpan(0, Receive()));
                while (reader.TryRead(out var h, out var payload))
                {
                    uint i = h.nlmsg_seq - first; // one answer per request: a route, or NLMSG_ERROR with the errno
                    if (i >= (uint)batch.Length || answered[(int)i]) continue;
                    answered[(int)i] = true;
                    pending--;
                    if (h.nlmsg_type == Interop.RTM_NEWROUTE && RtnetlinkParser.Route(payload) is { } route) into.Add(route);
                }
            }
        }
    }

    /// <summary>Every neighbour entry of every family (RTM_GETNEIGH dump); unusable states included.</summary>
    public void DumpNeighbours(List<KernelNeighbour> into) =>
        Dump(Interop.RTM_GETNEIGH, sizeof(Interop.ndmsg), Interop.RTM_NEWNEIGH, into, static p => RtnetlinkParser.Neighbour(p));

    /// <summary>Every network device (RTM_GETLINK dump).</summary>
    public void DumpLinks(List<KernelLink> into) =>
        Dump(Interop.RTM_GETLINK, sizeof(Interop.ifinfomsg), Interop.RTM_NEWLINK, into, static p => RtnetlinkParser.Link(p));

    private delegate T? Parser<T>(ReadOnlySpan<byte> payload) where T : class;

    private void Dump<T>(ushort request, int fixedLength, ushort answer, List<T> into, Parser<T> parse) where T : class
    {
        uint seq = ++_seq;
        Send(RtnetlinkRequests.Dump(_send, request, fixedLength, seq));
        while (true)
        {
            var reader = new NetlinkMessageReader(_receive.AsSpan(0, Receive()));
            while (reader.TryRead(out var h, out var payload))
            {
                if (h.nlmsg_seq != seq) continue;
                // NLMSG_DONE carries the dump's result (0, or -errno when it stopped early), NLMSG_ERROR a refused
                // request. NLM_F_DUMP_INTR (the table changed during the dump) is accepted: the next refresh reads again.
                if (h.nlmsg_type is Interop.NLMSG_DONE or Interop.NLMSG_ERROR)
                {
                    int error = payload.Length >= sizeof(int) ? MemoryMarshal.Read<int>(payload) : 0;
                    if (error < 0) throw new NativeErrorException($"netlink dump (type {request})", -error);
                    return;
                }
                if (h.nlmsg_type == answer && parse(payload) is { } item) into.Add(item);
            }
        }
    }

    private void Send(int length)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var kernel = new Interop.sockaddr_nl { nl_family = Interop.AF_NETLINK };
        fixed (byte* b = _send)
        {
            while (Interop.sendto(_fd, b, (nuint)length, 0, &kernel, (uint)sizeof(Interop.sockaddr_nl)) < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno != Interop.EINTR) throw new NativeErrorException("sendto netlink", errno);
            }
        }
    }

    /// <summary>The next datagram from the kernel into the receive buffer; its length.</summary>
    private int Receive()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        long deadline = Environment.TickCount64 + AnswerTimeoutMs;
        fixed (byte* b = _receive)
        {
            while (true)
            {
                var pfd = new Interop.pollfd { fd = _fd, events = Interop.POLLIN };
                int wait = (int)Math.Max(0, deadline - Environment.TickCount64);
                int r = Interop.poll(&pfd, 1, wait);
                if (r < 0 && Marshal.GetLastPInvokeError() is int pe && pe != Interop.EINTR) throw new NativeErrorException("poll netlink", pe);
                if (r == 0) throw new TimeoutException($"netlink: no answer from the kernel within {AnswerTimeoutMs} ms");
                if (r < 0) continue;
                Interop.sockaddr_nl from = default;
                uint fromLength = (uint)sizeof(Interop.sockaddr_nl);
                // MSG_TRUNC: the datagram's real length, so one larger than the buffer is seen rather than cut.
                nint n = Interop.recvfrom(_fd, b, (nuint)_receive.Length, Interop.MSG_DONTWAIT | Interop.MSG_TRUNC, &from, &fromLength);
                if (n < 0)
                {
                    int errno = Marshal.GetLastPInvokeError();
                    if (errno is Interop.EAGAIN or Interop.EINTR) continue;
                    // ENOBUFS: answers were dropped because the receive buffer overflowed.
                    throw new NativeErrorException("recvfrom netlink", errno);
                }
                if (n > _receive.Length) throw new InvalidDataException($"netlink: a {n}-byte datagram does not fit the {_receive.Length}-byte buffer");
                if (from.nl_pid != 0) continue; // only the kernel answers; anything else is not ours to read
                return (int)n;
            }
        }
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        Interop.close(_fd);
    }
}
