using System.Runtime.InteropServices;
using System.Text;

namespace TunLB.Linux.Xdp;

/// <summary>Loads eBPF instructions with BPF_PROG_LOAD; a refused program's verifier log goes into the exception.</summary>
internal static unsafe class BpfProgram
{
    /// <summary>License string the kernel records for the program (it gates only GPL-only helpers, which we do not call).</summary>
    public const string License = "Dual MIT/GPL";

    /// <summary>Verifier log buffer for a refused program: the log of our ~40 instructions at level 1 is a few KiB.</summary>
    private const int LogSize = 256 * 1024;

    /// <summary>
    /// Loads an XDP program and returns its descriptor. The first attempt runs without a log (cheaper); when the kernel
    /// refuses the program, it is loaded again with log_level 1 and the verifier's log is put into the exception message.
    /// </summary>
    public static int LoadXdp(ReadOnlySpan<Interop.bpf_insn> program, string name)
    {
        int fd = Load(program, name, null, 0);
        if (fd >= 0) return fd;
        int errno = Marshal.GetLastPInvokeError();
        string log = "";
        if (errno is Interop.EINVAL or Interop.EACCES or Interop.ERANGE or Interop.E2BIG)
        {
            byte[] buffer = new byte[LogSize];
            fixed (byte* b = buffer)
            {
                int again = Load(program, name, b, LogSize);
                if (again >= 0) return again; // refused once, accepted with a log: take it
                int len = buffer.AsSpan().IndexOf((byte)0);
                log = Encoding.ASCII.GetString(buffer, 0, len < 0 ? buffer.Length : len).TrimEnd();
            }
        }
        throw new NativeErrorException($"bpf(BPF_PROG_LOAD) XDP program {name} ({program.Length} instructions)" +
            (errno == Interop.EPERM ? " (needs CAP_BPF or CAP_SYS_ADMIN)" : "") +
            (log.Length > 0 ? $"; verifier log:\n{log}\n" : ""), errno);
    }

    private static int Load(ReadOnlySpan<Interop.bpf_insn> program, string name, byte* log, int logSize)
    {
        byte* license = stackalloc byte[License.Length + 1];
        license[Encoding.ASCII.GetBytes(License, new Span<byte>(license, License.Length))] = 0;
        fixed (Interop.bpf_insn* insns = program)
        {
            Interop.bpf_attr_prog_load attr = default;
            attr.prog_type = Interop.BPF_PROG_TYPE_XDP;
            attr.expected_attach_type = Interop.BPF_XDP;
            attr.insn_cnt = (uint)program.Length;
            attr.insns = (ulong)insns;
            attr.license = (ulong)license;
            attr.log_level = log == null ? 0u : 1u;
            attr.log_size = (uint)logSize;
            attr.log_buf = (ulong)log;
            BpfMap.WriteName(attr.prog_name, name);
            return Interop.bpf(Interop.BPF_PROG_LOAD, &attr, (uint)sizeof(Interop.bpf_attr_prog_load));
        }
    }
}
