namespace TunLB.Linux;

internal static partial class Interop
{
    // <asm-generic/errno-base.h>, <asm-generic/errno.h>: what bpf(2) and AF_XDP report besides Interop.Errno.cs.
    internal const int E2BIG = 7;
    internal const int EACCES = 13;
    internal const int ERANGE = 34;
    internal const int EPROTONOSUPPORT = 93;
}
