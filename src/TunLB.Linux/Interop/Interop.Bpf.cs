using System.Runtime.InteropServices;

namespace TunLB.Linux;

internal static unsafe partial class Interop
{
    // <asm/unistd.h>: __NR_bpf is 321 on x86-64 and 280 in the generic table (arm64, riscv64, loongarch64).
    internal static readonly nint SYS_bpf = RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => 321,
        Architecture.Arm64 or Architecture.RiscV64 or Architecture.LoongArch64 => 280,
        _ => -1, // syscall(-1) fails with ENOSYS
    };

    // <linux/bpf.h> enum bpf_cmd
    internal const int BPF_MAP_CREATE = 0;
    internal const int BPF_MAP_LOOKUP_ELEM = 1;
    internal const int BPF_MAP_UPDATE_ELEM = 2;
    internal const int BPF_MAP_DELETE_ELEM = 3;
    internal const int BPF_PROG_LOAD = 5;
    internal const int BPF_LINK_CREATE = 28;

    /// <summary>bpf(2) through syscall(2): returns the C return value (an fd, 0, or -1 with errno).</summary>
    internal static int bpf(int cmd, void* attr, uint size) => (int)syscall(SYS_bpf, cmd, attr, size);
}
