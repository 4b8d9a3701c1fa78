using System.Runtime.InteropServices;

namespace TunLB.Linux;

internal static partial class Interop
{
    /// <summary>if_nametoindex(3): 0 when there is no such interface (errno set).</summary>
    [LibraryImport(Libc, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial uint if_nametoindex(string ifname);
}
