using System.Runtime.InteropServices;

namespace TunLB.Linux;

internal static unsafe partial class Interop
{
    // <bits/socket.h>
    internal const int MSG_DONTWAIT = 0x40;
    internal const int MSG_TRUNC = 0x20;

    /// <summary>sendto(2).</summary>
    [LibraryImport(Libc, SetLastError = true)]
    internal static partial nint sendto(int sockfd, void* buf, nuint len, int flags, void* dest_addr, uint addrlen);
}
