using System.Runtime.InteropServices;
using TunLB.Core.Packets;
using TunLB.Linux.Xdp;

namespace TunLB.Linux;

/// <summary>
/// What one worker reads with <c>io = "xdp"</c>: the AF_XDP sockets of its receive queues (one per capture interface
/// that has the queue) and its queue of the TUN device, where the kernel forwards what the XDP program leaves to it
/// (ICMP to a VIP, fragments' kernel path, traffic on other interfaces) and where the director's own health checks
/// to a VIP go. A packet from a socket gets its CHECKSUM_PARTIAL completed (<see cref="Offload.CompletePartialChecksum"/>).
/// </summary>
/// <remarks>
/// Sockets are read without a system call while their RX rings hold packets; the TUN queue is tried once every 64 calls
/// (so a flood through the sockets does not starve the health checks) and after a poll. Only when the sockets are
/// empty does Receive poll every descriptor, the TUN queue included (with their wake eventfds, so Dispose of any socket
/// wakes it).
/// </remarks>
public sealed unsafe class XdpPort : IPacketReceiver
{
    private const int TunEvery = 64;
    private readonly XskSocket[] _sockets;
    private readonly TunDevice? _tun;
    private int _next, _calls, _lastError;

    public XdpPort(IReadOnlyList<XskSocket> sockets, TunDevice? tun, string name)
    {
        _sockets = [.. sockets]; _tun = tun; Name = name;
    }

    public string Name { get; }
    public int LastError => _lastError;
    public IReadOnlyList<XskSocket> Sockets => _sockets;

    // Counters (single writer: the worker).
    public long ChecksumsCompleted;
    public long TunPackets;

    public int Receive(Span<byte> buffer, int timeoutMs)
    {
        if (_tun is not null && ++_calls % TunEvery == 0 && TryTun(buffer) is var first && first != 0) return first;
        bool polled = false;
        while (true)
        {
            int n = TrySockets(buffer);
            if (n != 0) return n;
            // Without waiting (draining a batch, busy-polling) the TUN queue is read only every TunEvery calls above:
            // a read(2) per empty call would make every spin a system call.
            if (timeoutMs == 0) return 0;
            // The TUN queue is in the poll set, so it is read after a poll, not before every one: an idle worker woken
            // per packet would otherwise pay a read(2) returning EAGAIN each time.
            if (polled) return _tun is not null ? TryTun(buffer) : 0;
            if (!Poll(timeoutMs)) return -1;
            polled = true;
        }
    }

    private int TrySockets(Span<byte> buffer)
    {
        var socks = _sockets;
        for (int i = 0; i < socks.Length; i++)
        {
            int at = _next + i;
            if (at >= socks.Length) at -= socks.Length;
            int n = socks[at].Receive(buffer, 0);
            if (n == 0) continue;
            if (n < 0) { _lastError = socks[at].LastError; return -1; }
            _next = at; // stay on a busy socket: its ring is warm
            if (Offload.CompletePartialChecksum(buffer[..n])) ChecksumsCompleted++;
            return n;
        }
        return 0;
    }

    private int TryTun(Span<byte> buffer)
    {
        int n = _tun!.Receive(buffer, 0);
        if (n > 0) TunPackets++;
        else if (n < 0) _lastError = _tun.LastError;
        return n;
    }

    /// <summary>Waits for any descriptor; false when one was closed (Dispose) or failed for good.</summary>
    private bool Poll(int timeoutMs)
    {
        int count = _sockets.Length + (_tun is null ? 0 : 1);
        // At most 2 x 65 entries (64 interfaces plus the TUN queue): well inside a stack frame.
        Interop.pollfd* fds = stackalloc Interop.pollfd[2 * count];
        int acquired = 0;
        try
        {
            for (; acquired < count; acquired++)
            {
                var h = acquired < _sockets.Length ? _sockets[acquired].Handle : _tun!.Handle;
                if (!h.TryAcquire(out int fd)) return false;
                fds[2 * acquired] = new Interop.pollfd { fd = fd, events = Interop.POLLIN };
                fds[2 * acquired + 1] = new Interop.pollfd { fd = h.WakeFd, events = Interop.POLLIN };
            }
            int r = Interop.poll(fds, (nuint)(2 * count), timeoutMs);
            if (r < 0)
            {
                int e = Marshal.GetLastPInvokeError();
                _lastError = e;
                return e == Interop.EINTR || e == Interop.ENOMEM;
            }
            for (int i = 0; i < count; i++)
            {
                if (fds[2 * i + 1].revents != 0) return false; // Dispose was called
                if ((fds[2 * i].revents & Interop.POLLNVAL) != 0) { _lastError = Interop.EBADF; return false; }
            }
            return true;
        }
        finally
        {
            for (int i = 0; i < acquired; i++) (i < _sockets.Length ? _sockets[i].Handle : _tun!.Handle).Release();
        }
    }

    /// <summary>Closes the sockets (the TUN queue belongs to the runtime); a Receive blocked in another thread returns -1.</summary>
    public void Dispose()
    {
        foreach (var s in _sockets) s.Dispose();
    }

    public override string ToString() => Name;
}
