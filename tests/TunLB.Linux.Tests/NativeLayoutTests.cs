using TunLB.Tests.Shared;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace TunLB.Linux.Tests;

/// <summary>
/// Compiles a C program with gcc that prints the sizes, offsets and constant values of the kernel/libc definitions we
/// mirror, and compares them with the C# declarations (the Tmds.LibC approach).
/// </summary>
public sealed class NativeLayoutTests
{
    private static readonly string CProgram = new CLayoutProgram("net/if.h", "netinet/in.h", "poll.h", "sys/time.h", "fcntl.h", "sched.h", "sys/socket.h", "sys/ioctl.h", "sys/eventfd.h", "linux/if_tun.h")
        .Struct("ifreq", "ifr_name", "ifr_flags", "ifr_ifindex", "ifr_mtu")
        .Struct("sockaddr_in", "sin_family", "sin_port", "sin_addr", "sin_zero")
        .Struct("sockaddr_in6", "sin6_family", "sin6_port", "sin6_flowinfo", "sin6_addr", "sin6_scope_id")
        .Struct("iovec", "iov_len")
        .Struct("msghdr", "msg_namelen", "msg_iov", "msg_iovlen", "msg_flags", "msg_name", "msg_control", "msg_controllen")
        .Struct("mmsghdr", "msg_len", "msg_hdr")
        .Struct("pollfd", "fd", "events", "revents")
        .Struct("timeval", "tv_sec", "tv_usec")
        .Constants("IFNAMSIZ", "TUNSETIFF", "TUNSETPERSIST", "TUNGETIFF", "IFF_TUN", "IFF_TAP", "IFF_NO_PI",
            "IFF_MULTI_QUEUE", "IFF_NAPI", "AF_INET", "AF_INET6", "AF_PACKET", "SOCK_DGRAM", "SOCK_RAW",
            "SOCK_NONBLOCK", "SOCK_CLOEXEC", "IPPROTO_IP", "IPPROTO_IPIP", "IPPROTO_UDP", "IPPROTO_RAW", "SOL_IP",
            "IP_HDRINCL", "SOL_SOCKET", "SO_RCVBUF", "SO_SNDBUF", "SO_RCVBUFFORCE", "SO_SNDBUFFORCE",
            "SO_BINDTODEVICE", "SO_RCVTIMEO", "SHUT_RD", "MSG_WAITFORONE", "MSG_DONTWAIT", "MSG_TRUNC", "POLLIN", "POLLERR", "POLLHUP", "POLLNVAL", "O_RDONLY",
            "O_RDWR", "O_NONBLOCK", "O_CLOEXEC", "CLONE_NEWNET", "EFD_NONBLOCK", "EFD_CLOEXEC")
        .ToString();

    private static readonly Lazy<Dictionary<string, long>> Native = new(() => CHeaderValues.CompileAndRun(CProgram));

    private static void Check(string name, long csharpValue) => Assert.Equal(Native.Value[name], csharpValue);

    private static long Offset<T>(string field) => Marshal.OffsetOf<T>(field).ToInt64();

    [Fact]
    public void Ifreq()
    {
        Check("sizeof(ifreq)", Marshal.SizeOf<Interop.ifreq>());
        Check("sizeof(ifreq)", Unsafe.SizeOf<Interop.ifreq>());
        Check("offsetof(ifreq.ifr_name)", Offset<Interop.ifreq>(nameof(Interop.ifreq.ifr_name)));
        Check("offsetof(ifreq.ifr_flags)", Offset<Interop.ifreq>(nameof(Interop.ifreq.ifr_flags)));
        Check("offsetof(ifreq.ifr_ifindex)", Offset<Interop.ifreq>(nameof(Interop.ifreq.ifr_ifindex)));
        Check("offsetof(ifreq.ifr_mtu)", Offset<Interop.ifreq>(nameof(Interop.ifreq.ifr_mtu)));
        Check("IFNAMSIZ", Interop.IFNAMSIZ);
    }

    [Fact]
    public void SockaddrIn()
    {
        Check("sizeof(sockaddr_in)", Marshal.SizeOf<Interop.sockaddr_in>());
        Check("sizeof(sockaddr_in)", Unsafe.SizeOf<Interop.sockaddr_in>());
        Check("offsetof(sockaddr_in.sin_family)", Offset<Interop.sockaddr_in>(nameof(Interop.sockaddr_in.sin_family)));
        Check("offsetof(sockaddr_in.sin_port)", Offset<Interop.sockaddr_in>(nameof(Interop.sockaddr_in.sin_port)));
        Check("offsetof(sockaddr_in.sin_addr)", Offset<Interop.sockaddr_in>(nameof(Interop.sockaddr_in.sin_addr)));
        Check("offsetof(sockaddr_in.sin_zero)", Offset<Interop.sockaddr_in>(nameof(Interop.sockaddr_in.sin_zero)));
    }

    [Fact]
    public void SockaddrIn6()
    {
        Check("sizeof(sockaddr_in6)", Marshal.SizeOf<Interop.sockaddr_in6>());
        Check("sizeof(sockaddr_in6)", Unsafe.SizeOf<Interop.sockaddr_in6>());
        Check("offsetof(sockaddr_in6.sin6_family)", Offset<Interop.sockaddr_in6>(nameof(Interop.sockaddr_in6.sin6_family)));
        Check("offsetof(sockaddr_in6.sin6_port)", Offset<Interop.sockaddr_in6>(nameof(Interop.sockaddr_in6.sin6_port)));
        Check("offsetof(sockaddr_in6.sin6_flowinfo)", Offset<Interop.sockaddr_in6>(nameof(Interop.sockaddr_in6.sin6_flowinfo)));
        Check("offsetof(sockaddr_in6.sin6_addr)", Offset<Interop.sockaddr_in6>(nameof(Interop.sockaddr_in6.sin6_addr)));
        Check("offsetof(sockaddr_in6.sin6_scope_id)", Offset<Interop.sockaddr_in6>(nameof(Interop.sockaddr_in6.sin6_scope_id)));
    }

    [Fact]
    public void SendmmsgStructs()
    {
        Check("sizeof(iovec)", Unsafe.SizeOf<Interop.iovec>());
        Check("offsetof(iovec.iov_len)", Offset<Interop.iovec>(nameof(Interop.iovec.iov_len)));
        Check("sizeof(msghdr)", Unsafe.SizeOf<Interop.msghdr>());
        Check("offsetof(msghdr.msg_namelen)", Offset<Interop.msghdr>(nameof(Interop.msghdr.msg_namelen)));
        Check("offsetof(msghdr.msg_iov)", Offset<Interop.msghdr>(nameof(Interop.msghdr.msg_iov)));
        Check("offsetof(msghdr.msg_iovlen)", Offset<Interop.msghdr>(nameof(Interop.msghdr.msg_iovlen)));
        Check("offsetof(msghdr.msg_flags)", Offset<Interop.msghdr>(nameof(Interop.msghdr.msg_flags)));
        Check("sizeof(mmsghdr)", Unsafe.SizeOf<Interop.mmsghdr>());
        Check("offsetof(mmsghdr.msg_len)", Offset<Interop.mmsghdr>(nameof(Interop.mmsghdr.msg_len)));
    }

    /// <summary>recvmmsg(2) takes the same vector as sendmmsg(2), and DatagramBatch points msg_name and msg_iov into it.</summary>
    [Fact]
    public void RecvmmsgStructs()
    {
        Check("sizeof(mmsghdr)", Unsafe.SizeOf<Interop.mmsghdr>());
        Check("offsetof(mmsghdr.msg_hdr)", Offset<Interop.mmsghdr>(nameof(Interop.mmsghdr.msg_hdr)));
        Check("offsetof(mmsghdr.msg_len)", Offset<Interop.mmsghdr>(nameof(Interop.mmsghdr.msg_len)));
        Check("offsetof(msghdr.msg_name)", Offset<Interop.msghdr>(nameof(Interop.msghdr.msg_name)));
        Check("offsetof(msghdr.msg_namelen)", Offset<Interop.msghdr>(nameof(Interop.msghdr.msg_namelen)));
        Check("offsetof(msghdr.msg_control)", Offset<Interop.msghdr>(nameof(Interop.msghdr.msg_control)));
        Check("offsetof(msghdr.msg_controllen)", Offset<Interop.msghdr>(nameof(Interop.msghdr.msg_controllen)));
        Check("offsetof(msghdr.msg_flags)", Offset<Interop.msghdr>(nameof(Interop.msghdr.msg_flags)));
    }

    [Fact]
    public void Pollfd()
    {
        Check("sizeof(pollfd)", Marshal.SizeOf<Interop.pollfd>());
        Check("sizeof(pollfd)", Unsafe.SizeOf<Interop.pollfd>());
        Check("offsetof(pollfd.fd)", Offset<Interop.pollfd>(nameof(Interop.pollfd.fd)));
        Check("offsetof(pollfd.events)", Offset<Interop.pollfd>(nameof(Interop.pollfd.events)));
        Check("offsetof(pollfd.revents)", Offset<Interop.pollfd>(nameof(Interop.pollfd.revents)));
    }

    [Fact]
    public void TunConstants()
    {
        Check("TUNSETIFF", Interop.TUNSETIFF);
        Check("TUNSETPERSIST", Interop.TUNSETPERSIST);
        Check("TUNGETIFF", Interop.TUNGETIFF);
        Check("IFF_TUN", Interop.IFF_TUN);
        Check("IFF_TAP", Interop.IFF_TAP);
        Check("IFF_NO_PI", Interop.IFF_NO_PI);
        Check("IFF_MULTI_QUEUE", Interop.IFF_MULTI_QUEUE);
        Check("IFF_NAPI", Interop.IFF_NAPI);
    }

    [Fact]
    public void SocketConstants()
    {
        Check("AF_INET", Interop.AF_INET);
        Check("AF_INET6", Interop.AF_INET6);
        Check("AF_PACKET", Interop.AF_PACKET);
        Check("SOCK_DGRAM", Interop.SOCK_DGRAM);
        Check("SOCK_RAW", Interop.SOCK_RAW);
        Check("SOCK_NONBLOCK", Interop.SOCK_NONBLOCK);
        Check("SOCK_CLOEXEC", Interop.SOCK_CLOEXEC);
        Check("IPPROTO_IP", Interop.IPPROTO_IP);
        Check("IPPROTO_IPIP", Interop.IPPROTO_IPIP);
        Check("IPPROTO_UDP", Interop.IPPROTO_UDP);
        Check("IPPROTO_RAW", Interop.IPPROTO_RAW);
        Check("SOL_IP", Interop.SOL_IP);
        Check("IP_HDRINCL", Interop.IP_HDRINCL);
        Check("SOL_SOCKET", Interop.SOL_SOCKET);
        Check("SO_RCVBUF", Interop.SO_RCVBUF);
        Check("SO_SNDBUF", Interop.SO_SNDBUF);
        Check("SO_RCVBUFFORCE", Interop.SO_RCVBUFFORCE);
        Check("SO_SNDBUFFORCE", Interop.SO_SNDBUFFORCE);
        Check("SO_BINDTODEVICE", Interop.SO_BINDTODEVICE);
        Check("MSG_DONTWAIT", Interop.MSG_DONTWAIT);
        Check("MSG_TRUNC", Interop.MSG_TRUNC);
        Check("SO_RCVTIMEO", Interop.SO_RCVTIMEO);
        Check("SHUT_RD", Interop.SHUT_RD);
        Check("MSG_WAITFORONE", Interop.MSG_WAITFORONE);
        Check("sizeof(timeval)", Marshal.SizeOf<Interop.timeval>());
    }

    [Fact]
    public void PollFileAndNamespaceConstants()
    {
        Check("POLLIN", Interop.POLLIN);
        Check("POLLERR", Interop.POLLERR);
        Check("POLLHUP", Interop.POLLHUP);
        Check("POLLNVAL", Interop.POLLNVAL);
        Check("O_RDONLY", Interop.O_RDONLY);
        Check("O_RDWR", Interop.O_RDWR);
        Check("O_NONBLOCK", Interop.O_NONBLOCK);
        Check("O_CLOEXEC", Interop.O_CLOEXEC);
        Check("CLONE_NEWNET", Interop.CLONE_NEWNET);
        Check("EFD_NONBLOCK", Interop.EFD_NONBLOCK);
        Check("EFD_CLOEXEC", Interop.EFD_CLOEXEC);
    }
}
