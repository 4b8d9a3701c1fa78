using System.Runtime.InteropServices;

namespace TunLB.Linux;

internal static partial class Interop
{
    /// <summary>close(2).</summary>
    [LibraryImport(Libc, SetLastError = true)]
    internal static partial int close(int fd);
}
