using System.Runtime.CompilerServices;

namespace TunLB.Core.Flows;

/// <summary>
/// Deterministic, seedable 64-bit hashing for flows and addresses. The same input and seed give the
/// same value on every machine and process, which the hashing schedulers (sh, dh, mh) rely on so that
/// several directors agree. Not string.GetHashCode / HashCode, which are randomized per process.
/// </summary>
public static class FlowHash
{
    private const ulong K1 = 0x9E37_79B9_7F4A_7C15UL;
    private const ulong K2 = 0xC2B2_AE3D_27D4_EB4FUL;

    /// <summary>A strong 64-bit finalizer (splitmix64 / Murmur3 fmix64 family).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Mix(ulong x)
    {
        x ^= x >> 30; x *= 0xBF58_476D_1CE4_E5B9UL;
        x ^= x >> 27; x *= 0x94D0_49BB_1331_11EBUL;
        x ^= x >> 31;
        return x;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Combine(ulong h, ulong v) => Mix(h ^ (v * K1) + K2);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Hash(IpAddress a, ulong seed) => Combine(Combine(seed, a.Hi), a.Lo);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Hash(in FlowKey k, ulong seed)
    {
        ulong h = Combine(seed, k.Source.Lo);
        h = Combine(h, k.Destination.Lo);
        h = Combine(h, ((ulong)k.SourcePort << 24) | ((ulong)k.DestinationPort << 8) | k.Protocol);
        if ((k.Source.Hi | k.Destination.Hi) != 0)
            h = Combine(Combine(h, k.Source.Hi), k.Destination.Hi);
        return h;
    }

    /// <summary>FNV-1a over bytes, then mixed; deterministic for names such as "192.0.2.11:80".</summary>
    public static ulong Hash(ReadOnlySpan<byte> data, ulong seed)
    {
        ulong h = 0xCBF2_9CE4_8422_2325UL ^ seed;
        foreach (byte b in data) { h ^= b; h *= 0x0000_0100_0000_01B3UL; }
        return Mix(h);
    }
}
