using System.Runtime.InteropServices;
using System.Text;
using TunLB.Core.Flows;

namespace TunLB.Linux;

/// <summary>
/// A Linux TUN device (layer 3, IFF_TUN | IFF_NO_PI): each read returns one IP packet, each write injects one IP packet
/// into the kernel's stack as if it had arrived on the device. The device lives as long as this port (it is not
/// persistent) and belongs to the network namespace of the thread that opened it.
/// </summary>
public sealed unsafe class TunDevice : IPacketReceiver
{
    private const string ClonePath = "/dev/net/tun";

    private readonly FileDescriptor _fd;

    /// <summary>The descriptor, for a port that polls several (<see cref="XdpPort"/>).</summary>
    internal FileDescriptor Handle => _fd;
    private int _lastError;

    private TunDevice(FileDescriptor fd, string name)
    {
        _fd = fd;
        Name = name;
    }

    /// <summary>The kernel's name for the device (e.g. "tun0" when opened with "tun%d").</summary>
    public string Name { get; }

    public int LastError => _lastError;

    /// <summary>
    /// Opens /dev/net/tun and attaches to (creating if needed) the TUN device <paramref name="name"/> with
    /// IFF_TUN | IFF_NO_PI. <paramref name="name"/> may contain "%d" for the kernel to pick a number, or be empty.
    /// With <paramref name="multiQueue"/> (IFF_MULTI_QUEUE) each call with the same name adds one queue, so several
    /// workers can each own one port. With <paramref name="napi"/> (IFF_NAPI, CAP_NET_ADMIN) written packets are queued
    /// and taken into the stack by the device's NAPI poll (with GRO) instead of synchronously inside write(2).
    /// Throws <see cref="NativeErrorException"/> with the errno text on failure.
    /// </summary>
    public static TunDevice Open(string name, out string actualName, bool multiQueue = false, bool napi = false)
    {
        var dev = Open(name, multiQueue, napi);
        actualName = dev.Name;
        return dev;
    }

    /// <inheritdoc cref="Open(string, out string, bool, bool)"/>
    public static TunDevice Open(string name, bool multiQueue = false, bool napi = false)
    {
        ArgumentNullException.ThrowIfNull(name);
        byte[] nameBytes = Encoding.ASCII.GetBytes(name);
        if (nameBytes.Length >= Interop.IFNAMSIZ)
            throw new ArgumentException($"Interface name '{name}' is longer than {Interop.IFNAMSIZ - 1} characters.", nameof(name));

        int fd = Interop.open(ClonePath, Interop.O_RDWR | Interop.O_NONBLOCK | Interop.O_CLOEXEC);
        if (fd < 0) throw NativeErrorException.FromLastError($"open {ClonePath}");

        Interop.ifreq ifr = default;
        for (int i = 0; i < nameBytes.Length; i++) ifr.ifr_name[i] = nameBytes[i];
        ifr.ifr_flags = (short)(Interop.IFF_TUN | Interop.IFF_NO_PI | (multiQueue ? Interop.IFF_MULTI_QUEUE : 0) | (napi ? Interop.IFF_NAPI : 0));

        if (Interop.ioctl(fd, Interop.TUNSETIFF, &ifr) < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            Interop.close(fd);
            string hint = errno == Interop.EPERM ? " (needs CAP_NET_ADMIN)" : errno == Interop.EBUSY ? " (device exists with other flags or is in use)" : "";
            throw new NativeErrorException($"TUNSETIFF '{name}'{hint}", errno);
        }

        string actual = Marshal.PtrToStringAnsi((nint)ifr.ifr_name) ?? name;
        return new TunDevice(new FileDescriptor(fd), actual);
    }

    /// <summary>Reads one IP packet. See <see cref="IPacketReceiver.Receive"/>.</summary>
    public int Receive(Span<byte> buffer, int timeoutMs) => PortIo.Receive(_fd, buffer, timeoutMs, isSocket: false, ref _lastError);

    /// <summary>Writes one IP packet into the kernel; <paramref name="nextHop"/> is ignored.</summary>
    public bool Send(ReadOnlySpan<byte> packet, in IpAddress nextHop) => Send(packet);

    /// <summary>Writes one IP packet into the kernel. Returns false on error (errno in <see cref="LastError"/>).</summary>
    public bool Send(ReadOnlySpan<byte> packet)
    {
        if (!_fd.TryAcquire(out int fd)) { _lastError = Interop.EBADF; return false; }
        nint n;
        try
        {
            fixed (byte* p = packet) n = Interop.write(fd, p, (nuint)packet.Length);
            if (n < 0) _lastError = Marshal.GetLastPInvokeError();
        }
        finally
        {
            _fd.Release();
        }
        return n == packet.Length;
    }

    public void Dispose() => _fd.Close();

    public override string ToString() => $"tun {Name}";
}
