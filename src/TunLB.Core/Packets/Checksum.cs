using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace TunLB.Core.Packets;

/// <summary>The Internet checksum (RFC 1071) and its incremental update (RFC 1624).</summary>
public static class Checksum
{
    /// <summary>Adds 16-bit big-endian words of <paramref name="data"/> to a 32-bit accumulator (odd tail padded with zero).</summary>
    public static uint Add(uint sum, ReadOnlySpan<byte> data)
    {
        ulong acc = sum;
        int i = 0;
        // 4 bytes at a time into a 64-bit accumulator; carries are folded once at the end.
        for (; i + 4 <= data.Length; i += 4)
            acc += BinaryPrimitives.ReadUInt32BigEndian(data.Slice(i));
        if (i + 2 <= data.Length) { acc += BinaryPrimitives.ReadUInt16BigEndian(data.Slice(i)); i += 2; }
        if (i < data.Length) acc += (uint)data[i] << 8;
        acc = (acc & 0xFFFF_FFFF) + (acc >> 32);
        acc = (acc & 0xFFFF_FFFF) + (acc >> 32);
        return (uint)acc;
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
    public static bool IsValid(ReadOnlySpan<byte> data) => Compute(data) == 0;

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
