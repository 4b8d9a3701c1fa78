using System.Runtime.CompilerServices;

namespace TunLB.Linux.Xdp;

/// <summary>
/// One mmapped AF_XDP ring (RX, TX, fill or completion): the kernel's producer and consumer indexes, its flags word and
/// the descriptor array, at the offsets XDP_MMAP_OFFSETS reported. Indexes run freely and wrap at 2^32; the slot is
/// index &amp; <see cref="Mask"/>. Each side reads the other's index with acquire and publishes its own with release.
/// </summary>
internal unsafe struct XskRing
{
    public uint* Producer;
    public uint* Consumer;
    public uint* Flags;
    public byte* Descs;
    public uint Mask;
    public byte* Mapping;
    public nuint MappingLength;

    public readonly uint Size => Mask + 1;

    /// <summary>mmaps ring <paramref name="pgoff"/> of <paramref name="fd"/> with <paramref name="size"/> descriptors of <paramref name="descSize"/> bytes.</summary>
    public static XskRing Map(int fd, long pgoff, in Interop.xdp_ring_offset off, uint size, int descSize, string what)
    {
        nuint length = (nuint)(off.desc + (ulong)size * (ulong)descSize);
        void* m = Interop.mmap(null, length, Interop.PROT_READ | Interop.PROT_WRITE, Interop.MAP_SHARED | Interop.MAP_POPULATE, fd, (nint)pgoff);
        if (m == Interop.MAP_FAILED) throw NativeErrorException.FromLastError($"mmap AF_XDP {what} ring ({length} bytes)");
        byte* b = (byte*)m;
        return new XskRing
        {
            Producer = (uint*)(b + off.producer),
            Consumer = (uint*)(b + off.consumer),
            Flags = (uint*)(b + off.flags),
            Descs = b + off.desc,
            Mask = size - 1,
            Mapping = b,
            MappingLength = length,
        };
    }

    /// <summary>Whether the kernel asked to be woken (XDP_RING_NEED_WAKEUP, with XDP_USE_NEED_WAKEUP).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly bool NeedsWakeup() => (Volatile.Read(ref *Flags) & Interop.XDP_RING_NEED_WAKEUP) != 0;

    public void Unmap()
    {
        if (Mapping != null) Interop.munmap(Mapping, MappingLength);
        Mapping = null;
    }
}
