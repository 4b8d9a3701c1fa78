namespace TunLB.Linux;

/// <summary>
/// P/Invoke declarations for the Linux kernel/libc API, one native function per file (the dotnet/runtime layout).
/// Names of functions, constants, structs and fields are the kernel's, so the man pages are the documentation.
/// Every function returns the C return value; callers read errno with <see cref="System.Runtime.InteropServices.Marshal.GetLastPInvokeError"/>.
/// </summary>
internal static partial class Interop
{
    internal const string Libc = "libc";
}
