using System.Runtime.InteropServices;

namespace TunLB.Linux;

internal static unsafe partial class Interop
{
    /// <summary>write(2).</summary>
    [LibraryImport(Libc, SetLastError = true)]
    internal static partial nint write(int fd, void* buf, nuint count);
}
