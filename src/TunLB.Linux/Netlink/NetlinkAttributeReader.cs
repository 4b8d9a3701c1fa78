using System.Runtime.InteropServices;

namespace TunLB.Linux.Netlink;

/// <summary>
/// Walks the attributes (struct rtattr + value, each aligned to 4) that follow a message's fixed header. An attribute
/// whose length is shorter than its header or runs past the message ends the walk (<see cref="Malformed"/>); the
/// attributes before it stay usable. Callers check each value's length for its type and skip what does not fit.
/// </summary>
internal ref struct NetlinkAttributeReader
{
    private ReadOnlySpan<byte> _rest;

    /// <summary>The attributes of <paramref name="payload"/> after its fixed header of <paramref name="fixedLength"/> bytes (aligned).</summary>
    public NetlinkAttributeReader(ReadOnlySpan<byte> payload, int fixedLength)
    {
        int start = NetlinkLayout.Align(fixedLength);
        _rest = start < payload.Length ? payload[start..] : default;
    }

    public bool Malformed { get; private set; }

    /// <summary>The next attribute's type (flag bits NLA_F_NESTED / NLA_F_NET_BYTEORDER cleared) and value.</summary>
    public bool TryRead(out ushort type, out ReadOnlySpan<byte> value)
    {
        type = 0;
        value = default;
        if (_rest.IsEmpty) return false;
        int hdr = NetlinkLayout.AttributeHeaderLength;
        if (_rest.Length < hdr) return Stop();
        var a = MemoryMarshal.Read<Interop.rtattr>(_rest);
        if (!NetlinkLayout.TrySplit(_rest, hdr, a.rta_len, out value, out _rest)) return Stop();
        type = (ushort)(a.rta_type & Interop.NLA_TYPE_MASK);
        return true;
    }

    private bool Stop()
    {
        Malformed = true;
        _rest = default;
        return false;
    }
}
