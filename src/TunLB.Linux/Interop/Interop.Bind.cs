using System.Runtime.InteropServices;

namespace TunLB.Linux;

internal static unsafe partial class Interop
{
    /// <summary>bind(2).</summary>
    [LibraryImport(Libc, SetLastError = true)]
    internal static partial int bind(int sockfd, void* addr, uint addrlen);
}
