using System.Globalization;

namespace TunLB.Core.Egress;

/// <summary>
/// The 8-byte id of one egress check. All 8 bytes travel in every probe's UDP payload; the low 32 bits (the
/// <see cref="Tag"/>) also travel in the headers an ICMP error always quotes (UDP source port = tag high half,
/// IPv4 identification = tag low half), so answers from routers that quote only 8 bytes still match.
/// Written as 16 lower-case hex digits on the command line and in the HTTP API.
/// </summary>
public readonly struct EgressSessionId : IEquatable<EgressSessionId>
{
    public readonly ulong Value;

    public EgressSessionId(ulong value) { Value = value; }

    /// <summary>The 32 bits carried in the quoted headers.</summary>
    public uint Tag => (uint)Value;

    /// <summary>UDP source port of every probe of this session.</summary>
    public ushort SourcePort => (ushort)(Tag >> 16);

    /// <summary>IPv4 identification of every probe of this session (never 0, so the kernel keeps it).</summary>
    public ushort IpId => (ushort)Tag;

    /// <summary>
    /// A random id whose source port is not a well-known port (≥ 1024) and whose IP ID is not 0 (a raw send with ID 0
    /// would get a kernel-chosen ID and lose half the tag).
    /// </summary>
    public static EgressSessionId NewRandom()
    {
        Span<byte> b = stackalloc byte[8];
        while (true)
        {
            System.Security.Cryptography.RandomNumberGenerator.Fill(b);
            var id = new EgressSessionId(System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(b));
            if (id.IsUsable) return id;
        }
    }

    public bool IsUsable => SourcePort >= 1024 && IpId != 0;

    public static bool TryParse(string? s, out EgressSessionId id)
    {
        id = default;
        if (s is null || s.Length != 16) return false;
        foreach (char c in s) if (!char.IsAsciiHexDigit(c)) return false;
        id = new EgressSessionId(ulong.Parse(s, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture));
        return true;
    }

    public override string ToString() => Value.ToString("x16", CultureInfo.InvariantCulture);
    public bool Equals(EgressSessionId other) => Value == other.Value;
    public override bool Equals(object? obj) => obj is EgressSessionId o && Equals(o);
    public override int GetHashCode() => Value.GetHashCode();
    public static bool operator ==(EgressSessionId a, EgressSessionId b) => a.Equals(b);
    public static bool operator !=(EgressSessionId a, EgressSessionId b) => !a.Equals(b);
}
