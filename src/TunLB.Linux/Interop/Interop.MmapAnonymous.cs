namespace TunLB.Linux;

internal static partial class Interop
{
    // <asm-generic/mman-common.h>, <asm-generic/mman.h> (x86-64, arm64, riscv64): private anonymous memory, e.g. an AF_XDP UMEM.
    internal const int MAP_PRIVATE = 0x02;
    internal const int MAP_ANONYMOUS = 0x20;
    internal const int MAP_POPULATE = 0x8000;
}
