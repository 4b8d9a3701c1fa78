using System.Runtime.InteropServices;

namespace TunLB.Linux;

internal static unsafe partial class Interop
{
    // <asm-generic/socket.h> (x86-64, arm64, riscv64)
    internal const int SO_ATTACH_FILTER = 26;
    internal const int SO_DETACH_FILTER = 27;

    // <asm-generic/errno.h>
    internal const int EOPNOTSUPP = 95;

    /// <summary>
    /// struct sock_fprog from &lt;linux/filter.h&gt;: the program length and a pointer to its struct sock_filter array
    /// (<see cref="TunLB.Core.Egress.BpfInstruction"/> has that element layout).
    /// </summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct sock_fprog
    {
        public ushort len;
        public void* filter;
    }
}
