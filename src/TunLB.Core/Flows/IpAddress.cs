using System.Buffers.Binary;
using System.Net;
using System.Runtime.CompilerServices;

namespace TunLB.Core.Flows;

/// <summary>
/// A 16-byte IP address value. IPv4 is held as an IPv4-mapped IPv6 address (::ffff:a.b.c.d),
/// so one key type serves both families without allocation.
/// </summary>
public readonly struct IpAddress : IEquatable<IpAddress>
{
    // Network byte order: Hi holds bytes 0..7, Lo holds bytes 8..15, both read big-endian.
    public readonly ulong Hi;
    public readonly ulong Lo;

    private const ulong V4MappedLoPrefix = 0x0000_FFFF_0000_0000UL;

    public IpAddress(ulong hi, ulong lo) { Hi = hi; Lo = lo; }

    public static IpAddress FromV4(uint addressHostOrder) => new(0, V4MappedLoPrefix | addressHostOrder);

    /// <summary>Reads 4 bytes in network order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static IpAddress FromV4Bytes(ReadOnlySpan<byte> b) => FromV4(BinaryPrimitives.ReadUInt32BigEndian(b));

    /// <summary>Reads 16 bytes in network order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static IpAddress FromV6Bytes(ReadOnlySpan<byte> b) =>
        new(BinaryPrimitives.ReadUInt64BigEndian(b), BinaryPrimitives.ReadUInt64BigEndian(b.Slice(8)));

    public bool IsV4 => Hi == 0 && (Lo & 0xFFFF_FFFF_0000_0000UL) == V4MappedLoPrefix;

    /// <summary>The IPv4 address in host order; only meaningful when <see cref="IsV4"/>.</summary>
    public uint V4 => (uint)Lo;

    public void WriteV4(Span<byte> dst) => BinaryPrimitives.WriteUInt32BigEndian(dst, V4);

    public void WriteV6(Span<byte> dst)
    {
        BinaryPrimitives.WriteUInt64BigEndian(dst, Hi);
        BinaryPrimitives.WriteUInt64BigEndian(dst.Slice(8), Lo);
    }

    /// <summary>Keeps the first <paramref name="prefixBits"/> bits of the address (IPv4 prefixes count from the v4 part).</summary>
    public IpAddress Mask(int prefixBits)
    {
        if (IsV4)
        {
            uint m = prefixBits <= 0 ? 0u : prefixBits >= 32 ? uint.MaxValue : uint.MaxValue << (32 - prefixBits);
            return FromV4(V4 & m);
        }
        ulong mh = prefixBits <= 0 ? 0 : prefixBits >= 64 ? ulong.MaxValue : ulong.MaxValue << (64 - prefixBits);
        int lb = prefixBits - 64;
        ulong ml = lb <= 0 ? 0 : lb >= 64 ? ulong.MaxValue : ulong.MaxValue << (64 - lb);
        return new IpAddress(Hi & mh, Lo & ml);
    }

    /// <summary>Prefix length of a contiguous netmask (255.255.255.0 -> 24, ffff:ffff:: -> 32), or -1 if it has holes.</summary>
    public static int PrefixLengthOfMask(IpAddress mask)
    {
        if (mask.IsV4)
        {
            uint inv = ~mask.V4;
            return (inv & (inv + 1)) == 0 ? 32 - System.Numerics.BitOperations.PopCount(inv) : -1;
        }
        UInt128 i = ~(((UInt128)mask.Hi << 64) | mask.Lo);
        return (i & (i + 1)) == 0 ? 128 - (int)UInt128.PopCount(i) : -1;
    }

    public static IpAddress FromIPAddress(IPAddress a)
    {
        Span<byte> b = stackalloc byte[16];
        if (a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork)
        {
            a.TryWriteBytes(b, out _);
            return FromV4Bytes(b);
        }
        a.TryWriteBytes(b, out _);
        return FromV6Bytes(b);
    }

    public IPAddress ToIPAddress()
    {
        Span<byte> b = stackalloc byte[16];
        if (IsV4) { WriteV4(b); return new IPAddress(b.Slice(0, 4)); }
        WriteV6(b);
        return new IPAddress(b);
    }

    public static IpAddress Parse(string s) => FromIPAddress(IPAddress.Parse(s));

    public bool Equals(IpAddress other) => Hi == other.Hi && Lo == other.Lo;
    public override bool Equals(object? obj) => obj is IpAddress o && Equals(o);
    public override int GetHashCode() => HashCode.Combine(Hi, Lo);
    public static bool operator ==(IpAddress a, IpAddress b) => a.Equals(b);
    public static bool operator !=(IpAddress a, IpAddress b) => !a.Equals(b);
    public override string ToString() => ToIPAddress().ToString();
}
