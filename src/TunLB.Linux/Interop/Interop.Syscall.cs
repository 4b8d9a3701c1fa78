using System.Runtime.InteropServices;

namespace TunLB.Linux;

internal static unsafe partial class Interop
{
    /// <summary>
    /// syscall(2), for system calls glibc has no wrapper for (bpf). Variadic in C; declared with three fixed integer/pointer
    /// arguments, which the x86-64 and arm64 Linux ABIs pass exactly like variadic ones (glibc's syscall is an assembly
    /// stub that only moves registers).
    /// </summary>
    [LibraryImport(Libc, SetLastError = true)]
    internal static partial nint syscall(nint number, nint arg1, void* arg2, nuint arg3);
}
