using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace TunLB.Core.Packets;

/// <summary>The Internet checksum (RFC 1071) and its incremental update (RFC 1624).</summary>
public static class Checksum
{
    /// <summary>
    /// Adds 16-bit big-endian words of <paramref name="data"/> to a 32-bit accumulator (odd tail padded with zero).
    /// The returned accumulator is congruent (mod 0xFFFF) to the plain sum, which is all <see cref="Finish"/> needs.
    /// </summary>
    /// <remarks>
    /// Sums the bytes as native-order 32-bit words and swaps the folded result once: the one's complement sum is
    /// independent of byte order up to that swap (RFC 1071 section 2 (B)), so no per-word byte swap is needed.
    /// </remarks>
    public static uint Add(uint sum, ReadOnlySpan<byte> data)
    {
        uint folded = Fold16(SumNative(data));
        if (BitConverter.IsLittleEndian) folded = (ushort)((folded >> 8) | (folded << 8));
        ulong r = (ulong)sum + folded;
        return (uint)((r & 0xFFFF_FFFF) + (r >> 32));
    }

    /// <summary>The bytes summed as native-order 32-bit words (odd tail padded with zero), carries unfolded.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong SumNative(ReadOnlySpan<byte> data)
    {
        ref byte p = ref MemoryMarshal.GetReference(data);
        nuint n = (nuint)data.Length, i = 0;
        ulong acc = 0;
        // 8 bytes a round as two 32-bit words into a 64-bit accumulator: no carry is lost below 2^31 rounds.
        for (; i + 8 <= n; i += 8)
            acc += (ulong)Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref p, i)) + Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref p, i + 4));
        if (i + 4 <= n) { acc += Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref p, i)); i += 4; }
        if (i + 2 <= n) { acc += Unsafe.ReadUnaligned<ushort>(ref Unsafe.Add(ref p, i)); i += 2; }
        if (i < n)
            acc += BitConverter.IsLittleEndian ? Unsafe.Add(ref p, i) : (uint)Unsafe.Add(ref p, i) << 8;
        return acc;
    }

    /// <summary>Folds a 64-bit one's complement accumulator to 16 bits (end-around carries), not complemented.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static uint Fold16(ulong acc)
    {
        acc = (acc & 0xFFFF_FFFF) + (acc >> 32);
        acc = (acc & 0xFFFF_FFFF) + (acc >> 32);
        uint x = (uint)acc;
        x = (x & 0xFFFF) + (x >> 16);
        x = (x & 0xFFFF) + (x >> 16);
        return x;
    }

    /// <summary>Folds a 32-bit accumulator to 16 bits and complements it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ushort Finish(uint sum)
    {
        sum = (sum & 0xFFFF) + (sum >> 16);
        sum = (sum & 0xFFFF) + (sum >> 16);
        return (ushort)~sum;
    }

    /// <summary>The checksum of <paramref name="data"/> (with its checksum field zeroed or included for verification).</summary>
    public static ushort Compute(ReadOnlySpan<byte> data) => Finish(Add(0, data));

    /// <summary>True when a header including its checksum field sums to 0xFFFF.</summary>
    /// <remarks>Byte order does not matter for this test (0xFFFF is its own swap), so the native-order sum is checked as is.</remarks>
    public static bool IsValid(ReadOnlySpan<byte> data) => Fold16(SumNative(data)) == 0xFFFF;

    /// <summary>RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), for one 16-bit word changing from m to m'.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ushort Update(ushort checksum, ushort oldWord, ushort newWord)
    {
        uint sum = (uint)(ushort)~checksum + (ushort)~oldWord + newWord;
        return Finish(sum);
    }

    /// <summary>
    /// The pseudo-header sum for TCP, UDP and ICMPv6 checksums: IPv4 (RFC 768: addresses, protocol, 16-bit length)
    /// or IPv6 (RFC 8200 section 8.1: addresses, 32-bit length, next header), by the family of <paramref name="source"/>.
    /// </summary>
    public static uint PseudoHeader(in Flows.IpAddress source, in Flows.IpAddress destination, byte protocol, int length)
    {
        ulong acc;
        if (source.IsV4)
        {
            acc = (source.V4 >> 16) + (source.V4 & 0xFFFF) + (destination.V4 >> 16) + (destination.V4 & 0xFFFF);
        }
        else
        {
            acc = Words(source.Hi) + Words(source.Lo) + Words(destination.Hi) + Words(destination.Lo);
        }
        acc += protocol + ((uint)length >> 16) + ((uint)length & 0xFFFF);
        while ((acc >> 32) != 0) acc = (acc & 0xFFFF_FFFF) + (acc >> 32);
        return (uint)acc;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Words(ulong v) => (v >> 48) + ((v >> 32) & 0xFFFF) + ((v >> 16) & 0xFFFF) + (v & 0xFFFF);
}
