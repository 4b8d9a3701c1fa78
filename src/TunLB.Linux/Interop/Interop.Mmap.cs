using System.Runtime.InteropServices;

namespace TunLB.Linux;

internal static unsafe partial class Interop
{
    // <asm-generic/mman-common.h>, <linux/mman.h>
    internal const int PROT_READ = 0x1;
    internal const int PROT_WRITE = 0x2;
    internal const int MAP_SHARED = 0x01;
    internal static readonly void* MAP_FAILED = (void*)-1;

    /// <summary>mmap(2).</summary>
    [LibraryImport(Libc, SetLastError = true)]
    internal static partial void* mmap(void* addr, nuint length, int prot, int flags, int fd, nint offset);
}
