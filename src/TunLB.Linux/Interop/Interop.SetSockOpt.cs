using System.Runtime.InteropServices;

namespace TunLB.Linux;

internal static unsafe partial class Interop
{
    // <asm-generic/socket.h> (x86-64, arm64, riscv64; alpha/mips/parisc/sparc differ)
    internal const int SOL_SOCKET = 1;
    internal const int SO_REUSEADDR = 2;
    internal const int SO_SNDBUF = 7;
    internal const int SO_RCVBUF = 8;
    internal const int SO_BINDTODEVICE = 25;
    internal const int SO_SNDBUFFORCE = 32;
    internal const int SO_RCVBUFFORCE = 33;

    // <linux/in.h>
    internal const int SOL_IP = 0;
    internal const int IP_HDRINCL = 3;

    /// <summary>setsockopt(2).</summary>
    [LibraryImport(Libc, SetLastError = true)]
    internal static partial int setsockopt(int sockfd, int level, int optname, void* optval, uint optlen);
}
