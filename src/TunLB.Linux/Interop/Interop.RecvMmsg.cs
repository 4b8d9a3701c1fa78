using System.Runtime.InteropServices;

namespace TunLB.Linux;

internal static unsafe partial class Interop
{
    /// <summary>recvmmsg flag: block for the first datagram only, then take what is queued.</summary>
    internal const int MSG_WAITFORONE = 0x10000;

    /// <summary>
    /// recvmmsg(2): receives up to <paramref name="vlen"/> datagrams in one system call (mmsghdr as for sendmmsg).
    /// Each entry's msg_len gets the datagram's length and msg_hdr.msg_namelen the sender's address length.
    /// Returns how many, or -1 with errno.
    /// </summary>
    [LibraryImport(Libc, SetLastError = true)]
    internal static partial int recvmmsg(int sockfd, mmsghdr* msgvec, uint vlen, int flags, void* timeout);
}
