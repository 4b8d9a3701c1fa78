namespace TunLB.Fuzz;

/// <summary>
/// Splits a fuzz input into records: a control byte, a 16-bit big-endian length, then that many bytes (fewer when the
/// input ends first). Lets one input carry a sequence of packets or operations (a SYN then its ICMP error, fragments
/// out of order) while every byte stays mutable; any byte string is a valid input.
/// </summary>
public ref struct Records
{
    private ReadOnlySpan<byte> _rest;

    public Records(ReadOnlySpan<byte> input) => _rest = input;

    public byte Control { get; private set; }
    public ReadOnlySpan<byte> Current { get; private set; }

    public bool MoveNext()
    {
        if (_rest.Length < 3) return false;
        Control = _rest[0];
        int len = Math.Min((_rest[1] << 8) | _rest[2], _rest.Length - 3);
        Current = _rest.Slice(3, len);
        _rest = _rest.Slice(3 + len);
        return true;
    }

    /// <summary>Frames <paramref name="payload"/> as one record (seed generation, tests).</summary>
    public static byte[] Frame(byte control, ReadOnlySpan<byte> payload)
    {
        var r = new byte[payload.Length + 3];
        r[0] = control;
        r[1] = (byte)(payload.Length >> 8);
        r[2] = (byte)payload.Length;
        payload.CopyTo(r.AsSpan(3));
        return r;
    }
}
