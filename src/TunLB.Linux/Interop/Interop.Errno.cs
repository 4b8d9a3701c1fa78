namespace TunLB.Linux;

internal static partial class Interop
{
    // <asm-generic/errno-base.h>, <asm-generic/errno.h> (x86-64, arm64, riscv64).
    internal const int EPERM = 1;
    internal const int ENOENT = 2;
    internal const int EINTR = 4;
    internal const int EIO = 5;
    internal const int ENXIO = 6;
    internal const int EBADF = 9;
    internal const int EAGAIN = 11;
    internal const int EWOULDBLOCK = EAGAIN;
    internal const int ENOMEM = 12;
    internal const int EFAULT = 14;
    internal const int EBUSY = 16;
    internal const int EEXIST = 17;
    internal const int ENODEV = 19;
    internal const int EINVAL = 22;
    internal const int EMSGSIZE = 90;
    internal const int EAFNOSUPPORT = 97;
    internal const int ENOBUFS = 105;
    internal const int EBADFD = 77;
}
