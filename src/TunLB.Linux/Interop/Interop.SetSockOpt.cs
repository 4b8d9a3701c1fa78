using System.Runtime.InteropServices;

namespace TunLB.Linux;

internal static unsafe partial class Interop
{
    // <asm-generic/socket.h> (x86-64, arm64, riscv64; alpha/mips/parisc/sparc differ)
    internal const int SOL_SOCKET = 1;
    internal const int SO_REUSEADDR = 2;
    internal const int SO_SNDBUF = 7;
    internal const int SO_RCVBUF = 8;
    /// <summary>SO_RCVTIMEO (SO_RCVTIMEO_OLD with a 64-bit time_t): a struct timeval; 0 = wait for ever.</summary>
    internal const int SO_RCVTIMEO = 20;
    internal const int SO_BINDTODEVICE = 25;
    internal const int SO_SNDBUFFORCE = 32;
    internal const int SO_RCVBUFFORCE = 33;

    // <linux/in.h>
    internal const int SOL_IP = 0;
    internal const int IP_HDRINCL = 3;

    // <sys/socket.h>
    internal const int SHUT_RD = 0;

    [StructLayout(LayoutKind.Sequential)]
    internal struct timeval
    {
        public long tv_sec;
        public long tv_usec;
    }

    /// <summary>shutdown(2): with SHUT_RD, wakes a receive blocked on the socket (it then returns 0).</summary>
    [LibraryImport(Libc, SetLastError = true)]
    internal static partial int shutdown(int sockfd, int how);

    /// <summary>setsockopt(2).</summary>
    [LibraryImport(Libc, SetLastError = true)]
    internal static partial int setsockopt(int sockfd, int level, int optname, void* optval, uint optlen);
}
