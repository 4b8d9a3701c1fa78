using System.Buffers.Binary;
using System.Collections.Frozen;
using System.Runtime.CompilerServices;
using TunLB.Core.Flows;
using TunLB.Core.Packets;

namespace TunLB.Core.DataPath;

/// <summary>
/// The real-server agent's acceptance filter for tunnelled packets: IPv4 or IPv6 outer headers carrying IPv4
/// (protocol / next header 4) or IPv6 (41) inner packets, directly or in GUE over UDP.
/// <para>
/// A host that decapsulates IP-in-IP from anyone is a spoofing relay (CERT VU#636397, CVE-2020-10136): an
/// attacker wraps a packet for any destination and the host forwards it with the attacker's chosen source.
/// This filter therefore accepts a packet only when every one of these holds, and otherwise names why not:
/// </para>
/// <list type="number">
/// <item>the outer header is well-formed, not a fragment (the kernel reassembles before raw delivery), and for
/// IPv4 carries protocol 4 or 41 with a valid header checksum (<see cref="Ipip.DecapsulateV4"/>);</item>
/// <item>the outer source is a configured director (<see cref="DropReason.NotFromDirector"/>);</item>
/// <item>the inner packet is well-formed IPv4 (version, IHL, total length, header checksum) or IPv6 (version,
/// payload length), of the family the outer header announced;</item>
/// <item>the inner packet is not itself a tunnel (IPIP or IPv6-in-IP): nested tunnels are refused
/// (<see cref="DropReason.UnsupportedProtocol"/>);</item>
/// <item>the inner destination is a configured VIP (<see cref="DropReason.InnerNotVip"/>).</item>
/// </list>
/// <para>
/// Entry points: <see cref="Check"/> for a whole IPv4 datagram (raw IPv4 socket, header included);
/// <see cref="CheckPayload"/> for a tunnel payload whose outer header the kernel already removed (raw IPv6 sockets
/// deliver no header); <see cref="CheckGue"/> for the payload of a UDP datagram on the GUE port.
/// They allocate nothing; counters are plain increments: use one instance per receive loop (thread), or read them
/// only as approximate values.
/// </para>
/// </summary>
public sealed class DecapFilter
{
    /// <summary>At or below this many addresses a set is scanned linearly; above it a <see cref="FrozenSet{T}"/> is used.</summary>
    public const int LinearScanLimit = 8;

    private readonly AddressSet _directors;
    private readonly AddressSet _vips;

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

    /// <param name="directors">Addresses of the directors allowed to send tunnelled packets here (IPv4 and/or IPv6).</param>
    /// <param name="vips">Virtual addresses this real server serves (IPv4 and/or IPv6).</param>
    public DecapFilter(IEnumerable<IpAddress> directors, IEnumerable<IpAddress> vips)
    {
        ArgumentNullException.ThrowIfNull(directors);
        ArgumentNullException.ThrowIfNull(vips);
        _directors = new AddressSet(directors);
        _vips = new AddressSet(vips);
    }

    public int DirectorCount => _directors.Count;
    public int VipCount => _vips.Count;

    /// <summary>
    /// Decides whether <paramref name="outerPacket"/> (an IPv4 datagram starting at its outer header, protocol 4 or 41)
    /// may be decapsulated and delivered. On <see cref="DropReason.None"/>, the inner datagram is
    /// <c>outerPacket.Slice(innerOffset, innerLength)</c>, where <paramref name="innerLength"/> is the inner
    /// header's total length (bytes after it inside the tunnel payload are not part of it).
    /// On a drop both are 0. Every verdict is counted in <see cref="Drops"/>.
    /// </summary>
    public DropReason Check(ReadOnlySpan<byte> outerPacket, out int innerOffset, out int innerLength)
    {
        var verdict = EvaluateV4(outerPacket, out innerOffset, out innerLength);
        return Count(verdict, ref innerOffset, ref innerLength);
    }

    /// <summary>
    /// Checks a tunnel payload received without its outer header (e.g. from an AF_INET6 raw socket of protocol
    /// 4 or 41): <paramref name="outerSource"/> is the sender, <paramref name="outerProtocol"/> the socket's
    /// protocol. On success the inner packet is <c>payload.Slice(innerOffset, innerLength)</c>.
    /// </summary>
    public DropReason CheckPayload(in IpAddress outerSource, byte outerProtocol, ReadOnlySpan<byte> payload, out int innerOffset, out int innerLength)
    {
        innerOffset = 0;
        innerLength = 0;
        DropReason verdict;
        if (outerProtocol != IpProtocol.IpIp && outerProtocol != IpProtocol.Ipv6) verdict = DropReason.NotTunnel;
        else if (!_directors.Contains(outerSource)) verdict = DropReason.NotFromDirector;
        else verdict = EvaluateInner(payload, outerProtocol == IpProtocol.Ipv6, out innerLength);
        return Count(verdict, ref innerOffset, ref innerLength);
    }

    /// <summary>
    /// Checks the payload of a UDP datagram received on the GUE port from <paramref name="udpSource"/> (see
    /// <see cref="Tunnel.ParseGue"/> for the accepted GUE forms). On success the inner packet is
    /// <c>udpPayload.Slice(innerOffset, innerLength)</c>.
    /// </summary>
    public DropReason CheckGue(in IpAddress udpSource, ReadOnlySpan<byte> udpPayload, out int innerOffset, out int innerLength)
    {
        innerLength = 0;
        DropReason verdict;
        if (!_directors.Contains(udpSource)) { verdict = DropReason.NotFromDirector; innerOffset = 0; }
        else
        {
            verdict = Tunnel.ParseGue(udpPayload, out innerOffset);
            if (verdict == DropReason.None)
                verdict = EvaluateInner(udpPayload.Slice(innerOffset), udpPayload[innerOffset] >> 4 == 6, out innerLength);
        }
        return Count(verdict, ref innerOffset, ref innerLength);
    }

    private DropReason Count(DropReason verdict, ref int innerOffset, ref int innerLength)
    {
        Drops[(int)verdict]++;
        if (verdict != DropReason.None) { innerOffset = 0; innerLength = 0; }
        return verdict;
    }

    private DropReason EvaluateV4(ReadOnlySpan<byte> p, out int innerOffset, out int innerLength)
    {
        var outer = Ipip.DecapsulateV4(p, out var outerSource, out innerOffset, out innerLength);
        if (outer != DropReason.None) return outer;
        // DecapsulateV4 locates the payload but does not verify the outer checksum; a corrupted header
        // could otherwise carry a corrupted (and so misattributed) source address.
        if (!Checksum.IsValid(p.Slice(0, innerOffset))) return DropReason.BadChecksum;
        if (!_directors.Contains(outerSource)) return DropReason.NotFromDirector;
        return EvaluateInner(p.Slice(innerOffset, innerLength), p[9] == IpProtocol.Ipv6, out innerLength);
    }

    /// <summary>Validates the inner packet (at the start of <paramref name="inner"/>); on success its real length.</summary>
    private DropReason EvaluateInner(ReadOnlySpan<byte> inner, bool expectV6, out int innerLength)
    {
        innerLength = 0;
        if (expectV6)
        {
            if (inner.Length < 40) return DropReason.Truncated;
            if (inner[0] >> 4 != 6) return DropReason.BadVersion;
            int total = 40 + BinaryPrimitives.ReadUInt16BigEndian(inner.Slice(4));
            if (total == 40 || total > inner.Length) return DropReason.BadTotalLength;
            byte nh = inner[6];
            if (nh == IpProtocol.IpIp || nh == IpProtocol.Ipv6) return DropReason.UnsupportedProtocol;
            if (!_vips.Contains(IpAddress.FromV6Bytes(inner.Slice(24)))) return DropReason.InnerNotVip;
            innerLength = total;
            return DropReason.None;
        }
        else
        {
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
            if (!_vips.ContainsV4(BinaryPrimitives.ReadUInt32BigEndian(inner.Slice(16)))) return DropReason.InnerNotVip;
            innerLength = total;
            return DropReason.None;
        }
    }

    /// <summary>A small immutable address set: linear scan up to <see cref="LinearScanLimit"/> per family, frozen set above.</summary>
    private sealed class AddressSet
    {
        private readonly uint[] _v4;
        private readonly IpAddress[] _v6;
        private readonly FrozenSet<uint>? _v4Set;
        private readonly FrozenSet<IpAddress>? _v6Set;

        public AddressSet(IEnumerable<IpAddress> addresses)
        {
            var v4 = new List<uint>();
            var v6 = new List<IpAddress>();
            foreach (var a in addresses)
            {
                if (a.IsV4) { if (!v4.Contains(a.V4)) v4.Add(a.V4); }
                else if (!v6.Contains(a)) v6.Add(a);
            }
            _v4 = v4.ToArray();
            _v6 = v6.ToArray();
            if (_v4.Length > LinearScanLimit) _v4Set = _v4.ToFrozenSet();
            if (_v6.Length > LinearScanLimit) _v6Set = _v6.ToFrozenSet();
        }

        public int Count => _v4.Length + _v6.Length;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public bool ContainsV4(uint address)
        {
            if (_v4Set is not null) return _v4Set.Contains(address);
            foreach (uint a in _v4)
                if (a == address) return true;
            return false;
        }

        public bool Contains(in IpAddress address)
        {
            if (address.IsV4) return ContainsV4(address.V4);
            if (_v6Set is not null) return _v6Set.Contains(address);
            foreach (var a in _v6)
                if (a.Hi == address.Hi && a.Lo == address.Lo) return true;
            return false;
        }
    }
}
