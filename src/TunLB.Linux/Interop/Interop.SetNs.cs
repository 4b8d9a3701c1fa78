using System.Runtime.InteropServices;

namespace TunLB.Linux;

internal static partial class Interop
{
    // <linux/sched.h>
    internal const int CLONE_NEWNET = 0x40000000;

    /// <summary>setns(2): moves the calling thread into the namespace referred to by fd.</summary>
    [LibraryImport(Libc, SetLastError = true)]
    internal static partial int setns(int fd, int nstype);
}
