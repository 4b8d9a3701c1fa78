using System.Runtime.InteropServices;

namespace TunLB.Linux;

/// <summary>A failed system call on the control plane (opening/configuring a port). Never thrown by Receive/Send.</summary>
public sealed class NativeErrorException : IOException
{
    /// <summary>The errno value.</summary>
    public int Errno { get; }

    public NativeErrorException(string operation, int errno)
        : base($"{operation}: {Describe(errno)}")
    {
        Errno = errno;
        HResult = errno;
    }

    /// <summary>"strerror text (errno N)".</summary>
    public static string Describe(int errno) => $"{Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})";

    internal static NativeErrorException FromLastError(string operation) => new(operation, Marshal.GetLastPInvokeError());
}
