using System.Runtime.InteropServices;

namespace TunLB.Linux;

internal static unsafe partial class Interop
{
    internal const int IFNAMSIZ = 16;

    /// <summary>
    /// struct ifreq from &lt;net/if.h&gt;: ifr_name followed by a union whose largest member (struct ifmap) makes it
    /// 40 bytes on 64-bit targets. Only the union members we use are declared.
    /// </summary>
    [StructLayout(LayoutKind.Explicit, Size = 40)]
    internal struct ifreq
    {
        [FieldOffset(0)] public fixed byte ifr_name[IFNAMSIZ];
        [FieldOffset(16)] public short ifr_flags;
        [FieldOffset(16)] public int ifr_ifindex;
        [FieldOffset(16)] public int ifr_mtu;
    }
}
