using System.Buffers.Binary;
using TunLB.Core.DataPath;
using TunLB.Core.Flows;
using TunLB.Core.Packets;

namespace TunLB.Fuzz.Targets;

/// <summary>
/// The fragment table on its own: each record is one operation, with arguments in the ranges the engine passes
/// (offsets multiple of 8 below 65536, lengths below 65536). Control byte: bits 0-1 = Lookup, Add, Lookup, Clear;
/// bits 2-4 = clock step. Payload: source and destination pick (from small pools, so sets collide), protocol,
/// 32-bit id, offset, length, destination id. A small table (8 entries) makes eviction common.
/// Oracle: Lookup only answers None or FragmentOverlap, with a destination id that was added; right after an Add,
/// the same non-empty range overlaps.
/// </summary>
public sealed class FragmentTableTarget : IFuzzTarget
{
    private static readonly IpAddress[] s_addresses =
    [
        IpAddress.Parse("198.51.100.10"), IpAddress.Parse("198.51.100.11"), IpAddress.Parse("203.0.113.10"),
        IpAddress.Parse("2001:db8:c::10"), IpAddress.Parse("2001:db8:100::10"), IpAddress.Parse("2001:db8:c::11"),
        IpAddress.Parse("0.0.0.0"), IpAddress.Parse("::"),
    ];
    private static readonly long[] s_steps = [0, 1, 1_000, 29_999, 30_000, 30_001, 60_000, 3_600_000];

    private readonly FragmentTable _table = new(8, 0x9E3779B97F4A7C15, 30_000);
    private long _now;

    public string Name => "fragments";

    public void Run(ReadOnlySpan<byte> input)
    {
        _table.Clear();
        _now = 1_000_000;
        var records = new Records(input);
        Span<byte> a = stackalloc byte[12];
        while (records.MoveNext())
        {
            byte ctl = records.Control;
            a.Clear();
            records.Current.Slice(0, Math.Min(12, records.Current.Length)).CopyTo(a);
            _now += s_steps[(ctl >> 2) & 7];
            IpAddress src = s_addresses[a[0] & 7], dst = s_addresses[(a[0] >> 3) & 7];
            byte proto = a[1];
            uint id = BinaryPrimitives.ReadUInt32BigEndian(a.Slice(2));
            int offset = BinaryPrimitives.ReadUInt16BigEndian(a.Slice(6)) & ~7;
            int length = BinaryPrimitives.ReadUInt16BigEndian(a.Slice(8));
            int destId = a[10];
            switch (ctl & 3)
            {
                case 1:
                    _table.Add(src, dst, proto, id, offset, length, destId, _now);
                    if (length > 0 &&
                        _table.Lookup(src, dst, proto, id, offset, length, _now, out _) != DropReason.FragmentOverlap)
                        throw new InvalidOperationException("a range just added does not overlap itself");
                    break;
                case 3:
                    _table.Clear();
                    break;
                default:
                    var r = _table.Lookup(src, dst, proto, id, offset, length, _now, out int found);
                    if (r is not (DropReason.None or DropReason.FragmentOverlap)) throw new InvalidOperationException($"Lookup: {r}");
                    if (found is < -1 or > 255) throw new InvalidOperationException($"Lookup found destination {found}");
                    break;
            }
        }
    }
}
