using System.Runtime.InteropServices;

namespace TunLB.Linux;

internal static unsafe partial class Interop
{
    /// <summary>munmap(2).</summary>
    [LibraryImport(Libc, SetLastError = true)]
    internal static partial int munmap(void* addr, nuint length);
}
