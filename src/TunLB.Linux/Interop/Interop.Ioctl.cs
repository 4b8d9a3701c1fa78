using System.Runtime.InteropServices;

namespace TunLB.Linux;

internal static unsafe partial class Interop
{
    // <linux/if_tun.h>. TUNSETIFF is _IOW('T', 202, int) with the generic ioctl encoding
    // (x86-64, arm64, riscv64; powerpc/mips/sparc encode directions differently).
    internal const uint TUNSETIFF = 0x400454ca;
    internal const uint TUNSETPERSIST = 0x400454cb;
    internal const uint TUNGETIFF = 0x800454d2;

    // <linux/if_tun.h> ifr_flags for TUNSETIFF.
    internal const short IFF_TUN = 0x0001;
    internal const short IFF_TAP = 0x0002;
    internal const short IFF_NAPI = 0x0010;
    internal const short IFF_MULTI_QUEUE = 0x0100;
    internal const short IFF_NO_PI = 0x1000;

    /// <summary>
    /// ioctl(2). Variadic in C; declared with a pointer third argument, which the x86-64 and arm64 Linux ABIs pass
    /// exactly like a fixed argument.
    /// </summary>
    [LibraryImport(Libc, SetLastError = true)]
    internal static partial int ioctl(int fd, nuint request, void* argp);
}
