using System.Runtime.InteropServices;
using System.Text;

namespace TunLB.Linux.Xdp;

/// <summary>
/// An eBPF map created with BPF_MAP_CREATE, owned through its descriptor. Control plane: element updates are system
/// calls and failures throw <see cref="NativeErrorException"/>, except that deleting a missing key reports false.
/// </summary>
internal sealed unsafe class BpfMap : IDisposable
{
    private int _fd;

    private BpfMap(int fd, string name, int keySize, int valueSize, int maxEntries)
    {
        _fd = fd; Name = name; KeySize = keySize; ValueSize = valueSize; MaxEntries = maxEntries;
    }

    public string Name { get; }
    public int KeySize { get; }
    public int ValueSize { get; }
    public int MaxEntries { get; }

    /// <summary>The map's descriptor (what a program's 64-bit immediate load refers to); -1 once disposed.</summary>
    public int Fd => Volatile.Read(ref _fd);

    /// <summary>Creates a map. <paramref name="name"/> is at most 15 characters of [A-Za-z0-9_.] (the kernel's rule).</summary>
    public static BpfMap Create(uint mapType, string name, int keySize, int valueSize, int maxEntries)
    {
        Interop.bpf_attr_map_create attr = default;
        attr.map_type = mapType;
        attr.key_size = (uint)keySize;
        attr.value_size = (uint)valueSize;
        attr.max_entries = (uint)maxEntries;
        WriteName(attr.map_name, name);
        int fd = Interop.bpf(Interop.BPF_MAP_CREATE, &attr, (uint)sizeof(Interop.bpf_attr_map_create));
        if (fd < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw new NativeErrorException($"bpf(BPF_MAP_CREATE) {name} (type {mapType}, {maxEntries} x {keySize}+{valueSize} bytes)" +
                (errno == Interop.EPERM ? " (needs CAP_BPF or CAP_SYS_ADMIN)" : ""), errno);
        }
        return new BpfMap(fd, name, keySize, valueSize, maxEntries);
    }

    internal static void WriteName(byte* dst, string name)
    {
        int n = Encoding.ASCII.GetBytes(name.AsSpan(0, Math.Min(name.Length, Interop.BPF_OBJ_NAME_LEN - 1)),
            new Span<byte>(dst, Interop.BPF_OBJ_NAME_LEN - 1));
        dst[n] = 0;
    }

    /// <summary>Inserts or replaces (BPF_ANY) one element.</summary>
    public void Update(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        CheckSizes(key, value.Length);
        fixed (byte* k = key)
        fixed (byte* v = value)
        {
            Interop.bpf_attr_map_elem attr = new() { map_fd = (uint)Fd, key = (ulong)k, value = (ulong)v, flags = Interop.BPF_ANY };
            if (Interop.bpf(Interop.BPF_MAP_UPDATE_ELEM, &attr, (uint)sizeof(Interop.bpf_attr_map_elem)) < 0)
                throw NativeErrorException.FromLastError($"bpf(BPF_MAP_UPDATE_ELEM) {Name}");
        }
    }

    /// <summary>Deletes one element; false when the key was not there.</summary>
    public bool Delete(ReadOnlySpan<byte> key)
    {
        CheckSizes(key, ValueSize);
        fixed (byte* k = key)
        {
            Interop.bpf_attr_map_elem attr = new() { map_fd = (uint)Fd, key = (ulong)k };
            if (Interop.bpf(Interop.BPF_MAP_DELETE_ELEM, &attr, (uint)sizeof(Interop.bpf_attr_map_elem)) == 0) return true;
            int errno = Marshal.GetLastPInvokeError();
            if (errno == Interop.ENOENT) return false;
            throw new NativeErrorException($"bpf(BPF_MAP_DELETE_ELEM) {Name}", errno);
        }
    }

    /// <summary>Whether <paramref name="key"/> is in the map (BPF_MAP_LOOKUP_ELEM; XSKMAP does not support lookups from user space).</summary>
    public bool Contains(ReadOnlySpan<byte> key)
    {
        CheckSizes(key, ValueSize);
        byte* value = stackalloc byte[ValueSize]; // map values here are a few bytes
        fixed (byte* k = key)
        {
            Interop.bpf_attr_map_elem attr = new() { map_fd = (uint)Fd, key = (ulong)k, value = (ulong)value };
            if (Interop.bpf(Interop.BPF_MAP_LOOKUP_ELEM, &attr, (uint)sizeof(Interop.bpf_attr_map_elem)) == 0) return true;
            int errno = Marshal.GetLastPInvokeError();
            if (errno == Interop.ENOENT) return false;
            throw new NativeErrorException($"bpf(BPF_MAP_LOOKUP_ELEM) {Name}", errno);
        }
    }

    /// <summary>
    /// Copies the value of <paramref name="key"/> into <paramref name="value"/> (for a per-CPU map, one value per possible
    /// CPU, each rounded up to 8 bytes: the caller sizes the buffer); false when the key is not there.
    /// </summary>
    public bool TryLookup(ReadOnlySpan<byte> key, Span<byte> value)
    {
        CheckSizes(key, ValueSize);
        if (value.Length < ValueSize) throw new ArgumentException($"{Name}: value buffer of {value.Length} bytes, values have {ValueSize}");
        fixed (byte* k = key)
        fixed (byte* v = value)
        {
            Interop.bpf_attr_map_elem attr = new() { map_fd = (uint)Fd, key = (ulong)k, value = (ulong)v };
            if (Interop.bpf(Interop.BPF_MAP_LOOKUP_ELEM, &attr, (uint)sizeof(Interop.bpf_attr_map_elem)) == 0) return true;
            int errno = Marshal.GetLastPInvokeError();
            if (errno == Interop.ENOENT) return false;
            throw new NativeErrorException($"bpf(BPF_MAP_LOOKUP_ELEM) {Name}", errno);
        }
    }

    /// <summary>CPUs a per-CPU map keeps a value for: the kernel's possible CPUs (/sys/devices/system/cpu/possible, e.g. "0-3").</summary>
    public static int PossibleCpus()
    {
        int count = 0;
        foreach (var part in File.ReadAllText("/sys/devices/system/cpu/possible").Trim().Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var ends = part.Split('-');
            int first = int.Parse(ends[0]), last = ends.Length > 1 ? int.Parse(ends[1]) : first;
            count += last - first + 1;
        }
        return Math.Max(count, 1);
    }

    private void CheckSizes(ReadOnlySpan<byte> key, int valueLength)
    {
        if (key.Length != KeySize || valueLength != ValueSize)
            throw new ArgumentException($"{Name}: key {key.Length} bytes / value {valueLength} bytes, map has {KeySize} / {ValueSize}");
        if (Fd < 0) throw new ObjectDisposedException(Name);
    }

    public void Dispose()
    {
        int fd = Interlocked.Exchange(ref _fd, -1);
        if (fd >= 0) Interop.close(fd);
    }

    public override string ToString() => Name;
}
