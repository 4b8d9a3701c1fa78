using System.Runtime.InteropServices;

namespace TunLB.Linux;

internal static unsafe partial class Interop
{
    /// <summary>struct in_addr; s_addr is in network byte order.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct in_addr
    {
        public uint s_addr;
    }

    /// <summary>struct sockaddr_in from &lt;netinet/in.h&gt;; sin_port and sin_addr are in network byte order.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct sockaddr_in
    {
        public ushort sin_family;
        public ushort sin_port;
        public in_addr sin_addr;
        public fixed byte sin_zero[8];
    }

    /// <summary>struct in6_addr.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct in6_addr
    {
        public fixed byte s6_addr[16];
    }

    /// <summary>struct sockaddr_in6 from &lt;netinet/in.h&gt;.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct sockaddr_in6
    {
        public ushort sin6_family;
        public ushort sin6_port;
        public uint sin6_flowinfo;
        public in6_addr sin6_addr;
        public uint sin6_scope_id;
    }
}
