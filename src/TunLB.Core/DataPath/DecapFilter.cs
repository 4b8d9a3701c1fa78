using System.Buffers.Binary;
using System.Collections.Frozen;
using System.Runtime.CompilerServices;
using TunLB.Core.Flows;
using TunLB.Core.Packets;

namespace TunLB.Core.DataPath;

/// <summary>
/// The real-server agent's acceptance filter for IPIP (IPv4-in-IPv4) packets.
/// <para>
/// A host that decapsulates IP-in-IP from anyone is a spoofing relay (CERT VU#636397, CVE-2020-10136): an
/// attacker wraps a packet for any destination and the host forwards it with the attacker's chosen source.
/// This filter therefore accepts a packet only when every one of these holds, and otherwise names why not:
/// </para>
/// <list type="number">
/// <item>the outer header is well-formed IPv4 carrying protocol 4, not a fragment (<see cref="Ipip.DecapsulateV4"/>),
/// and its header checksum is valid;</item>
/// <item>the outer source is a configured director (<see cref="DropReason.NotFromDirector"/>);</item>
/// <item>the inner packet is well-formed IPv4: version 4, IHL ≥ 5 and within the payload, total length within the
/// payload, valid header checksum;</item>
/// <item>the inner packet is not itself a tunnel (IPIP or IPv6-in-IPv4): nested tunnels are refused
/// (<see cref="DropReason.UnsupportedProtocol"/>);</item>
/// <item>the inner destination is a configured VIP (<see cref="DropReason.InnerNotVip"/>).</item>
/// </list>
/// <para>
/// <see cref="Check"/> is pure apart from its counters and allocates nothing. Counters are plain increments:
/// use one instance per receive loop (thread), or read them only as approximate values.
/// </para>
/// </summary>
public sealed class DecapFilter
{
    /// <summary>At or below this many addresses a set is scanned linearly; above it a <see cref="FrozenSet{T}"/> is used.</summary>
    public const int LinearScanLimit = 8;

    private readonly uint[] _directors;
    private readonly uint[] _vips;
    private readonly FrozenSet<uint>? _directorSet;
    private readonly FrozenSet<uint>? _vipSet;

    /// <summary>Per-verdict counters indexed by <c>(int)DropReason</c>; index <see cref="DropReason.None"/> counts accepted packets.</summary>
    public readonly long[] Drops = new long[DropReasons.Count];

    /// <summary>Packets accepted (the same counter as <c>Drops[(int)DropReason.None]</c>).</summary>
    public long Accepted => Drops[(int)DropReason.None];

    /// <summary>Packets dropped for any reason.</summary>
    public long Dropped
    {
        get
        {
            long n = 0;
            for (int i = 1; i < Drops.Length; i++) n += Drops[i];
            return n;
        }
    }

    /// <param name="directors">Addresses of the directors allowed to send IPIP here. Must be IPv4.</param>
    /// <param name="vips">Virtual addresses this real server serves. Must be IPv4.</param>
    /// <exception cref="ArgumentException">An address is not IPv4 (this filter handles IPIP only).</exception>
    public DecapFilter(IEnumerable<IpAddress> directors, IEnumerable<IpAddress> vips)
    {
        ArgumentNullException.ThrowIfNull(directors);
        ArgumentNullException.ThrowIfNull(vips);
        _directors = ToV4Array(directors, nameof(directors));
        _vips = ToV4Array(vips, nameof(vips));
        if (_directors.Length > LinearScanLimit) _directorSet = _directors.ToFrozenSet();
        if (_vips.Length > LinearScanLimit) _vipSet = _vips.ToFrozenSet();
    }

    public int DirectorCount => _directors.Length;
    public int VipCount => _vips.Length;

    private static uint[] ToV4Array(IEnumerable<IpAddress> addresses, string paramName)
    {
        var list = new List<uint>();
        foreach (var a in addresses)
        {
            if (!a.IsV4) throw new ArgumentException($"DecapFilter handles IPv4 (IPIP) only; {a} is not IPv4.", paramName);
            if (!list.Contains(a.V4)) list.Add(a.V4);
        }
        return list.ToArray();
    }

    /// <summary>
    /// Decides whether <paramref name="outerPacket"/> (an IPv4 datagram starting at its outer header) may be
    /// decapsulated and delivered. On <see cref="DropReason.None"/>, the inner IPv4 datagram is
    /// <c>outerPacket.Slice(innerOffset, innerLength)</c>, where <paramref name="innerLength"/> is the inner
    /// header's total length (bytes after it inside the tunnel payload are not part of it).
    /// On a drop both are 0. Every verdict is counted in <see cref="Drops"/>.
    /// </summary>
    public DropReason Check(ReadOnlySpan<byte> outerPacket, out int innerOffset, out int innerLength)
    {
        var verdict = Evaluate(outerPacket, out innerOffset, out innerLength);
        Drops[(int)verdict]++;
        if (verdict != DropReason.None) { innerOffset = 0; innerLength = 0; }
        return verdict;
    }

    private DropReason Evaluate(ReadOnlySpan<byte> p, out int innerOffset, out int innerLength)
    {
        var outer = Ipip.DecapsulateV4(p, out var outerSource, out innerOffset, out innerLength);
        if (outer != DropReason.None) return outer;
        // DecapsulateV4 locates the payload but does not verify the outer checksum; a corrupted header
        // could otherwise carry a corrupted (and so misattributed) source address.
        if (!Checksum.IsValid(p.Slice(0, innerOffset))) return DropReason.BadChecksum;
        if (!Contains(_directors, _directorSet, outerSource.V4)) return DropReason.NotFromDirector;

        var inner = p.Slice(innerOffset, innerLength);
        if (inner.Length < 20) return DropReason.Truncated;
        if (inner[0] >> 4 != 4) return DropReason.BadVersion;
        int ihl = (inner[0] & 0x0F) * 4;
        if (ihl < 20) return DropReason.BadHeaderLength;
        if (ihl > inner.Length) return DropReason.Truncated;
        int total = BinaryPrimitives.ReadUInt16BigEndian(inner.Slice(2));
        if (total < ihl || total > inner.Length) return DropReason.BadTotalLength;
        if (!Checksum.IsValid(inner.Slice(0, ihl))) return DropReason.BadChecksum;
        byte proto = inner[9];
        if (proto == IpProtocol.IpIp || proto == IpProtocol.Ipv6) return DropReason.UnsupportedProtocol;
        if (!Contains(_vips, _vipSet, BinaryPrimitives.ReadUInt32BigEndian(inner.Slice(16)))) return DropReason.InnerNotVip;

        innerLength = total;
        return DropReason.None;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool Contains(uint[] array, FrozenSet<uint>? set, uint address)
    {
        if (set is not null) return set.Contains(address);
        foreach (uint a in array)
            if (a == address) return true;
        return false;
    }
}
