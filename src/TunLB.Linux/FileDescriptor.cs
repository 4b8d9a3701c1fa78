using System.Runtime.InteropServices;

namespace TunLB.Linux;

/// <summary>
/// An owned file descriptor plus an eventfd used to wake pollers, with a lock-free reference count.
/// A Receive blocked in poll(2) on one thread and a Dispose on another cannot race into using a closed (or already
/// reused) descriptor number: <see cref="Close"/> marks it closed and signals the eventfd, and the last
/// <see cref="Release"/> performs close(2). Unlike SafeHandle.DangerousAddRef, acquiring a closed descriptor reports
/// false instead of throwing, which keeps the hot path exception-free.
/// </summary>
internal sealed unsafe class FileDescriptor
{
    private const int ClosedFlag = 1;
    private const int OneRef = 2;

    private readonly int _fd;
    private readonly int _wakeFd;
    private readonly Action? _onFinalClose;
    private int _state; // (references << 1) | ClosedFlag

    /// <summary>
    /// A socket on which a receive may block in the kernel (not only in poll(2)): <see cref="Close"/> then also calls
    /// shutdown(SHUT_RD), which wakes that receive (it returns 0 at once, and every later one too).
    /// </summary>
    public bool ShutdownOnClose { get; init; }

    /// <summary>Takes ownership of <paramref name="fd"/>; creates the wake eventfd (throws, closing fd, if that fails).</summary>
    public FileDescriptor(int fd) : this(fd, null) { }

    /// <summary>
    /// As above; <paramref name="onFinalClose"/> runs once, just before close(2), when nobody holds a reference any more
    /// (e.g. unmapping a packet ring that Receive reads while it holds a reference).
    /// </summary>
    public FileDescriptor(int fd, Action? onFinalClose)
    {
        _fd = fd;
        _onFinalClose = onFinalClose;
        _wakeFd = Interop.eventfd(0, Interop.EFD_CLOEXEC | Interop.EFD_NONBLOCK);
        if (_wakeFd < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            Interop.close(fd);
            GC.SuppressFinalize(this);
            throw new NativeErrorException("eventfd", errno);
        }
    }

    /// <summary>
    /// Takes ownership of <paramref name="fd"/> and of the ring mapped from it: the mapping is removed just before
    /// close(2), once no Receive holds a reference. On failure both are released and the error is thrown.
    /// </summary>
    public static FileDescriptor WithMapping(int fd, byte* mapping, nuint size)
    {
        try { return new FileDescriptor(fd, () => Interop.munmap(mapping, size)); } // closes fd itself on failure
        catch { Interop.munmap(mapping, size); throw; }
    }

    public bool IsClosed => (Volatile.Read(ref _state) & ClosedFlag) != 0;

    /// <summary>The eventfd that becomes readable when <see cref="Close"/> is called; valid while a reference is held.</summary>
    public int WakeFd => _wakeFd;

    /// <summary>The raw number, for control-plane calls made while the owner is known to be alive.</summary>
    public int DangerousGetFd() => _fd;

    /// <summary>Takes a reference; false once <see cref="Close"/> has been called.</summary>
    public bool TryAcquire(out int fd)
    {
        while (true)
        {
            int s = Volatile.Read(ref _state);
            if ((s & ClosedFlag) != 0) { fd = -1; return false; }
            if (Interlocked.CompareExchange(ref _state, s + OneRef, s) == s) { fd = _fd; return true; }
        }
    }

    public void Release()
    {
        if (Interlocked.Add(ref _state, -OneRef) == ClosedFlag) CloseNow();
    }

    /// <summary>
    /// Marks the descriptor closed and wakes every poller; close(2) happens when the last reference is released.
    /// Idempotent and thread-safe.
    /// </summary>
    public void Close()
    {
        // Hold a reference ourselves so the eventfd cannot be closed under our write.
        if (!TryAcquire(out _)) return;
        while (true)
        {
            int s = Volatile.Read(ref _state);
            if ((s & ClosedFlag) != 0) break; // another Close won
            if (Interlocked.CompareExchange(ref _state, s | ClosedFlag, s) == s)
            {
                ulong one = 1;
                Interop.write(_wakeFd, &one, sizeof(ulong));
                if (ShutdownOnClose) Interop.shutdown(_fd, Interop.SHUT_RD); // raw and UDP sockets: ENOTCONN, yet woken
                break;
            }
        }
        Release();
    }

    private void CloseNow()
    {
        _onFinalClose?.Invoke();
        Interop.close(_fd);
        Interop.close(_wakeFd);
        GC.SuppressFinalize(this);
    }

    ~FileDescriptor()
    {
        // Only reachable when nobody holds a reference any more.
        if (!IsClosed) { _onFinalClose?.Invoke(); Interop.close(_fd); Interop.close(_wakeFd); }
    }
}
