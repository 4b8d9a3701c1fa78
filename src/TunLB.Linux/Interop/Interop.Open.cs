using System.Runtime.InteropServices;

namespace TunLB.Linux;

internal static partial class Interop
{
    // <asm-generic/fcntl.h> (x86-64, arm64, riscv64; differs on alpha/mips/parisc/sparc).
    internal const int O_RDONLY = 0x0;
    internal const int O_WRONLY = 0x1;
    internal const int O_RDWR = 0x2;
    internal const int O_NONBLOCK = 0x800;
    internal const int O_CLOEXEC = 0x80000;

    /// <summary>open(2).</summary>
    [LibraryImport(Libc, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int open(string pathname, int flags);
}
