using System.Runtime.InteropServices;

namespace TunLB.Linux;

internal static unsafe partial class Interop
{
    // <linux/in6.h>
    internal const int IPPROTO_IPV6 = 41;
    internal const int IPV6_V6ONLY = 26;

    /// <summary>recvfrom(2).</summary>
    [LibraryImport(Libc, SetLastError = true)]
    internal static partial nint recvfrom(int sockfd, void* buf, nuint len, int flags, void* src_addr, uint* addrlen);
}
