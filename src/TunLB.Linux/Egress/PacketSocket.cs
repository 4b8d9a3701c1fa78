using System.Buffers.Binary;
using System.Runtime.InteropServices;
using TunLB.Core.Egress;
using TunLB.Core.Flows;

namespace TunLB.Linux.Egress;

/// <summary>
/// An AF_PACKET / SOCK_DGRAM capture socket (ETH_P_IP or ETH_P_IPV6) with a classic BPF filter: receives IP packets
/// (starting at the IP header, link layer removed) from every interface or one, before the IP layer has decided anything: it sees
/// packets the kernel then drops (rp_filter, no local address, firewall). Receive-only.
/// </summary>
public sealed unsafe class PacketSocket : IPacketReceiver
{
    private readonly FileDescriptor _fd;
    private int _lastError;

    private PacketSocket(FileDescriptor fd, string name) { _fd = fd; Name = name; }

    public string Name { get; }
    public int LastError => _lastError;

    /// <summary>
    /// Opens the socket with protocol 0 (receives nothing yet), attaches <paramref name="filter"/> with SO_ATTACH_FILTER,
    /// then binds to ETH_P_IP on <paramref name="interfaceName"/> (null: all interfaces). Attaching before binding means
    /// no unfiltered packet is ever queued. Needs CAP_NET_RAW.
    /// </summary>
    public static PacketSocket OpenIpv4(ReadOnlySpan<BpfInstruction> filter, string? interfaceName = null) =>
        Open(filter, Interop.ETH_P_IP, interfaceName);

    /// <summary>The same for IPv6 packets (ETH_P_IPV6); the filter sees the IPv6 header at offset 0.</summary>
    public static PacketSocket OpenIpv6(ReadOnlySpan<BpfInstruction> filter, string? interfaceName = null) =>
        Open(filter, Interop.ETH_P_IPV6, interfaceName);

    private static PacketSocket Open(ReadOnlySpan<BpfInstruction> filter, ushort ethProtocol, string? interfaceName)
    {
        if (filter.Length == 0 || filter.Length > ushort.MaxValue) throw new ArgumentException("empty or oversized BPF program", nameof(filter));
        int ifindex = 0;
        if (interfaceName is not null)
        {
            ifindex = (int)Interop.if_nametoindex(interfaceName);
            if (ifindex == 0) throw NativeErrorException.FromLastError($"if_nametoindex {interfaceName}");
        }
        int fd = Interop.socket(Interop.AF_PACKET, Interop.SOCK_DGRAM | Interop.SOCK_NONBLOCK | Interop.SOCK_CLOEXEC, 0);
        if (fd < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw new NativeErrorException($"socket(AF_PACKET, SOCK_DGRAM){(errno == Interop.EPERM ? " (needs CAP_NET_RAW)" : "")}", errno);
        }
        var s = new PacketSocket(new FileDescriptor(fd), $"packet socket {(ethProtocol == Interop.ETH_P_IP ? "ip" : "ip6")} on {interfaceName ?? "all interfaces"}");
        try
        {
            fixed (BpfInstruction* prog = filter)
            {
                Interop.sock_fprog fprog = new() { len = (ushort)filter.Length, filter = prog };
                if (Interop.setsockopt(fd, Interop.SOL_SOCKET, Interop.SO_ATTACH_FILTER, &fprog, (uint)sizeof(Interop.sock_fprog)) < 0)
                    throw NativeErrorException.FromLastError("setsockopt SO_ATTACH_FILTER");
            }
            Interop.sockaddr_ll sll = default;
            sll.sll_family = Interop.AF_PACKET;
            sll.sll_protocol = BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(ethProtocol) : ethProtocol;
            sll.sll_ifindex = ifindex;
            if (Interop.bind(fd, &sll, (uint)sizeof(Interop.sockaddr_ll)) < 0)
                throw NativeErrorException.FromLastError($"bind AF_PACKET {interfaceName ?? "any"}");
        }
        catch { s.Dispose(); throw; }
        return s;
    }

    /// <summary>Receives one IP packet (IP header first). See <see cref="IPacketReceiver.Receive"/>.</summary>
    public int Receive(Span<byte> buffer, int timeoutMs) => PortIo.Receive(_fd, buffer, timeoutMs, isSocket: true, ref _lastError);

    public void Dispose() => _fd.Close();

    public override string ToString() => Name;
}
