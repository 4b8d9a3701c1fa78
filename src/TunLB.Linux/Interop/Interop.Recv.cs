using System.Runtime.InteropServices;

namespace TunLB.Linux;

internal static unsafe partial class Interop
{
    /// <summary>recv(2).</summary>
    [LibraryImport(Libc, SetLastError = true)]
    internal static partial nint recv(int sockfd, void* buf, nuint len, int flags);
}
