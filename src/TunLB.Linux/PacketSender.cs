using System.Runtime.InteropServices;
using TunLB.Core.Packets;

namespace TunLB.Linux;

/// <summary>
/// Sends complete IP packets straight to an Ethernet device with an AF_PACKET / SOCK_DGRAM socket: the kernel adds
/// the Ethernet header for the next hop's MAC given in each message's sockaddr_ll and queues the frame on the device,
/// without routing, netfilter or neighbour lookups. Used for tunnel packets whose next hop <see cref="NextHopTable"/>
/// resolved. On this machine a 64-byte packet costs the sender about 0.8 µs this way against 1.8 µs through a raw
/// IP socket (`sudo bench/tx-cost/run`).
/// </summary>
/// <remarks>Packets sent this way skip netfilter OUTPUT and POSTROUTING, as packets from a TPACKET ring or AF_XDP would;
/// `tx = "raw"` keeps every packet on the raw socket. The socket's protocol is 0, so it never receives.</remarks>
public sealed unsafe class PacketSender : IDisposable
{
    private readonly FileDescriptor _fd;
    private int _lastError;

    private PacketSender(FileDescriptor fd) => _fd = fd;

    public static PacketSender Open()
    {
        int fd = Interop.socket(Interop.AF_PACKET, Interop.SOCK_DGRAM | Interop.SOCK_NONBLOCK | Interop.SOCK_CLOEXEC, 0);
        if (fd < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw new NativeErrorException($"socket(AF_PACKET, SOCK_DGRAM, 0){(errno == Interop.EPERM ? " (needs CAP_NET_RAW)" : "")}", errno);
        }
        return new PacketSender(new FileDescriptor(fd));
    }

    public int LastError => _lastError;

    /// <summary>The most datagrams handed to one sendmmsg(2) call.</summary>
    public const int MaxBatch = 64;

    /// <summary>
    /// Sends packets from the start of <paramref name="packets"/> while each one's next hop is in
    /// <paramref name="hops"/> (and not due for its keepalive), in order: into its device's transmit ring when
    /// <paramref name="links"/> has one that takes it (the caller flushes the rings), otherwise with sendmmsg(2).
    /// Returns how many were sent or queued; <paramref name="stoppedAtUnresolved"/> tells whether it stopped at a packet
    /// for the raw socket (true) or at an error (false, errno in <see cref="LastError"/>) when fewer than all were sent.
    /// No allocation.
    /// </summary>
    /// <remarks>A packet goes to a ring only while no sendmmsg run is open, so everything before the packet a failed
    /// sendmmsg stopped at has been sent or queued, and the return value keeps its meaning.</remarks>
    public int SendMany(ReadOnlySpan<byte> buffer, ReadOnlySpan<OutputPacket> packets, NextHopTable.Snapshot hops, long nowMs,
        out bool stoppedAtUnresolved, LinkTransmitters? links = null)
    {
        stoppedAtUnresolved = false;
        if (!_fd.TryAcquire(out int fd)) { _lastError = Interop.EBADF; return 0; }
        int sent = 0;
        try
        {
            Interop.mmsghdr* msgs = stackalloc Interop.mmsghdr[MaxBatch];
            Interop.iovec* iov = stackalloc Interop.iovec[MaxBatch];
            fixed (byte* basePtr = buffer)
            {
                while (sent < packets.Length)
                {
                    int limit = Math.Min(MaxBatch, packets.Length - sent), n = 0;
                    while (n < limit)
                    {
                        ref readonly OutputPacket o = ref packets[sent + n];
                        // Only tunnel packets: ICMP replies to clients go through the kernel, which routes them.
                        int hop = o.Kind == OutputKind.Tunnel ? hops.FindIndex(o.NextHop, nowMs) : -1;
                        if (hop < 0) { stoppedAtUnresolved = true; break; }
                        Interop.sockaddr_ll* to = hops.Address(hop);
                        if (n == 0 && links is not null &&
                            links.TryQueue(to->sll_ifindex, hops.Mtu(hop), hops.EthernetHeader(hop), buffer.Slice(o.Offset, o.Length)))
                        {
                            sent++;
                            limit = Math.Min(MaxBatch, packets.Length - sent);
                            continue;
                        }
                        iov[n].iov_base = basePtr + o.Offset;
                        iov[n].iov_len = (nuint)o.Length;
                        msgs[n] = default;
                        msgs[n].msg_hdr.msg_name = to;
                        msgs[n].msg_hdr.msg_namelen = (uint)sizeof(Interop.sockaddr_ll);
                        msgs[n].msg_hdr.msg_iov = &iov[n];
                        msgs[n].msg_hdr.msg_iovlen = 1;
                        n++;
                    }
                    if (n == 0) break;
                    int r = Interop.sendmmsg(fd, msgs, (uint)n, 0);
                    if (r <= 0) { _lastError = r < 0 ? Marshal.GetLastPInvokeError() : _lastError; stoppedAtUnresolved = false; break; }
                    sent += r;
                    if (r < n) { stoppedAtUnresolved = false; break; }
                    if (stoppedAtUnresolved) break;
                }
            }
        }
        finally
        {
            _fd.Release();
        }
        return sent;
    }

    public void Dispose() => _fd.Close();
}
