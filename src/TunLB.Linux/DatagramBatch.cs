using System.Runtime.InteropServices;
using TunLB.Core.Flows;

namespace TunLB.Linux;

/// <summary>
/// Preallocated slots for one recvmmsg(2) call: <see cref="Capacity"/> buffers of <see cref="SlotSize"/> bytes, each with
/// its iovec, mmsghdr and sender address, all in native memory set up once, so receiving allocates nothing. One thread
/// owns a batch (it is not thread-safe); <see cref="Dispose"/> it from that thread once no receive is in progress.
/// </summary>
/// <remarks>
/// The slots are 64 KiB by default because a socket can hand over a datagram that large (reassembled fragments, GRO);
/// the memory comes from the native allocator untouched, so only the pages that packets were written to become resident
/// (about one page per slot for MTU-sized traffic).
/// </remarks>
public sealed unsafe class DatagramBatch : IDisposable
{
    /// <summary>Datagrams per call by default: beyond ~32 the system call is already a small share per packet.</summary>
    public const int DefaultCapacity = 32;
    /// <summary>The largest datagram a socket delivers (65,535 bytes of IP packet or UDP payload).</summary>
    public const int MaxDatagram = 65536;

    private byte* _data;
    private Interop.mmsghdr* _msgs;
    private Interop.iovec* _iov;
    private Interop.sockaddr_in6* _names;

    public DatagramBatch(int capacity = DefaultCapacity, int slotSize = MaxDatagram)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(capacity, 1024);
        ArgumentOutOfRangeException.ThrowIfLessThan(slotSize, 64);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(slotSize, MaxDatagram);
        Capacity = capacity;
        SlotSize = slotSize;
        _data = (byte*)NativeMemory.AlignedAlloc((nuint)capacity * (nuint)slotSize, 4096);
        _msgs = (Interop.mmsghdr*)NativeMemory.AllocZeroed((nuint)capacity, (nuint)sizeof(Interop.mmsghdr));
        _iov = (Interop.iovec*)NativeMemory.AllocZeroed((nuint)capacity, (nuint)sizeof(Interop.iovec));
        _names = (Interop.sockaddr_in6*)NativeMemory.AllocZeroed((nuint)capacity, (nuint)sizeof(Interop.sockaddr_in6));
        for (int i = 0; i < capacity; i++)
        {
            _iov[i].iov_base = _data + (nint)i * slotSize;
            _iov[i].iov_len = (nuint)slotSize;
            _msgs[i].msg_hdr.msg_iov = &_iov[i];
            _msgs[i].msg_hdr.msg_iovlen = 1;
            _msgs[i].msg_hdr.msg_name = &_names[i];
        }
    }

    public int Capacity { get; }
    public int SlotSize { get; }

    /// <summary>Datagrams held since the last receive (or <see cref="Clear"/>).</summary>
    public int Count { get; private set; }

    /// <summary>
    /// Whether the last receive filled every slot: the socket probably has more queued, so the next receive tries
    /// at once instead of polling first (under load one system call per batch, when idle no failing call per wake-up).
    /// </summary>
    public bool WasFull { get; private set; }

    /// <summary>Datagram <paramref name="index"/> (&lt; <see cref="Count"/>); valid until the next receive.</summary>
    public Span<byte> this[int index]
    {
        get
        {
            if ((uint)index >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(index));
            int len = (int)Math.Min(_msgs[index].msg_len, (uint)SlotSize);
            return new Span<byte>(_data + (nint)index * SlotSize, len);
        }
    }

    /// <summary>The sender of datagram <paramref name="index"/> (IPv4-mapped addresses come back as IPv4).</summary>
    public IpAddress Source(int index)
    {
        if ((uint)index >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(index));
        return _msgs[index].msg_hdr.msg_namelen == 0 ? default : DatagramIo.FromSockaddr(&_names[index]);
    }

    public void Clear() { WasFull = false; Count = 0; }

    /// <summary>Copies a datagram in (for receivers that are not sockets, such as tests' in-memory ones); false when full.</summary>
    public bool Add(ReadOnlySpan<byte> datagram, in IpAddress source)
    {
        if (Count == Capacity) return false;
        int i = Count++;
        int n = Math.Min(datagram.Length, SlotSize);
        datagram[..n].CopyTo(new Span<byte>(_data + (nint)i * SlotSize, n));
        _msgs[i].msg_len = (uint)n;
        if (source.IsV4)
        {
            *(Interop.sockaddr_in*)&_names[i] = DatagramIo.Sockaddr4(source, 0);
            _msgs[i].msg_hdr.msg_namelen = (uint)sizeof(Interop.sockaddr_in);
        }
        else
        {
            _names[i] = DatagramIo.Sockaddr6(source, 0);
            _msgs[i].msg_hdr.msg_namelen = (uint)sizeof(Interop.sockaddr_in6);
        }
        WasFull = Count == Capacity;
        return true;
    }

    /// <summary>Resets the headers the kernel writes (name lengths, flags) and returns the vector for recvmmsg; null once disposed.</summary>
    internal Interop.mmsghdr* PrepareReceive()
    {
        Count = 0;
        if (_data == null) return null;
        for (int i = 0; i < Capacity; i++)
        {
            _msgs[i].msg_hdr.msg_namelen = (uint)sizeof(Interop.sockaddr_in6);
            _msgs[i].msg_hdr.msg_flags = 0;
        }
        return _msgs;
    }

    /// <summary>Records what recvmmsg returned (0 or more datagrams).</summary>
    internal void Received(int count)
    {
        Count = count;
        WasFull = count == Capacity;
    }

    public void Dispose()
    {
        Free();
        GC.SuppressFinalize(this);
    }

    ~DatagramBatch() => Free();

    private void Free()
    {
        if (_data == null) return;
        NativeMemory.AlignedFree(_data);
        NativeMemory.Free(_msgs);
        NativeMemory.Free(_iov);
        NativeMemory.Free(_names);
        _data = null; _msgs = null; _iov = null; _names = null;
        Count = 0;
    }
}
