using System.Runtime.InteropServices;

namespace TunLB.Linux;

internal static partial class Interop
{
    // <sys/eventfd.h>
    internal const int EFD_SEMAPHORE = 0x1;
    internal const int EFD_NONBLOCK = 0x800;
    internal const int EFD_CLOEXEC = 0x80000;

    /// <summary>eventfd(2).</summary>
    [LibraryImport(Libc, SetLastError = true)]
    internal static partial int eventfd(uint initval, int flags);
}
