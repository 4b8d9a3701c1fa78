using System.Runtime.InteropServices;

namespace TunLB.Linux;

internal static partial class Interop
{
    // <bits/socket.h>
    internal const int AF_INET = 2;
    internal const int AF_INET6 = 10;
    internal const int AF_PACKET = 17;

    // <bits/socket_type.h> (x86-64, arm64, riscv64; mips differs)
    internal const int SOCK_STREAM = 1;
    internal const int SOCK_DGRAM = 2;
    internal const int SOCK_RAW = 3;
    internal const int SOCK_NONBLOCK = 0x800;
    internal const int SOCK_CLOEXEC = 0x80000;

    // <netinet/in.h>
    internal const int IPPROTO_IP = 0;
    internal const int IPPROTO_ICMP = 1;
    internal const int IPPROTO_IPIP = 4;
    internal const int IPPROTO_UDP = 17;
    internal const int IPPROTO_ICMPV6 = 58;
    internal const int IPPROTO_RAW = 255;

    /// <summary>socket(2).</summary>
    [LibraryImport(Libc, SetLastError = true)]
    internal static partial int socket(int domain, int type, int protocol);
}
