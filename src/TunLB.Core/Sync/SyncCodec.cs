using System.Buffers.Binary;
using System.Security.Cryptography;
using TunLB.Core.Flows;
using TunLB.Core.Packets;

namespace TunLB.Core.Sync;

/// <summary>
/// The IPVS sync protocol v1 message layout (net/netfilter/ipvs/ip_vs_sync.c), followed by a MAC of our own.
/// </summary>
/// <remarks>
/// <code>
/// header (8):  reserved = 0 | syncid | size (be16, header + records) | record count | version = 1 | spare (be16: SyncMessageKind)
/// record (36 IPv4 / 72 IPv6): type (bit 0 = IPv6) | protocol | ver_size (be16: version 0 in the top 4 bits, record size)
///              | flags (be32) | state (be16) | cport | vport | dport | fwmark (be32) | timeout (be32, seconds)
///              | caddr | vaddr | daddr (4 or 16 bytes each)
/// MAC (16):    the first 16 bytes of HMAC-SHA256(key, header + records), after <c>size</c> bytes
/// </code>
/// The header's <c>size</c> does not count the MAC, so tshark's IPVS dissector reads the records as usual; IPVS itself
/// would refuse the datagram (its length is not <c>size</c>), which is right: it cannot check the MAC. A 128-bit
/// truncated HMAC-SHA256 is what RFC 4868 uses for IPsec. Records with options (sequence data, persistence-engine
/// data: a record size above the base size) are accepted and their options skipped. Pure: no I/O, never throws on input.
/// </remarks>
public static class SyncCodec
{
    public const int HeaderSize = 8;
    public const int RecordSizeV4 = 36;
    public const int RecordSizeV6 = 72;
    public const int MacSize = 16;
    public const byte Version = 1;
    public const ushort DefaultPort = 8848;
    /// <summary>
    /// Largest header + records we write: 1,200 bytes plus the MAC fits one packet on any IPv6 path (1,280 minus
    /// 48 bytes of IPv6 + UDP headers), so a sync message is never fragmented.
    /// </summary>
    public const int MaxMessageSize = 1200;
    /// <summary>Largest datagram we accept (a peer with another build could write a bit more; IPVS's own max is 64 KiB).</summary>
    public const int MaxDatagram = 65535;

    private const byte TypeInet6 = 1;    // STYPE_F_INET6
    private const int SizeMask = 0x0fff; // ver_size: the low 12 bits are the size
    private const int VersionShift = 12;

    /// <summary>Bytes one record of this family takes.</summary>
    public static int RecordSize(bool v6) => v6 ? RecordSizeV6 : RecordSizeV4;

    /// <summary>Writes a header for <paramref name="count"/> records taking <paramref name="size"/> bytes in all (header included).</summary>
    public static void WriteHeader(Span<byte> message, byte syncId, SyncMessageKind kind, int count, int size)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, 255);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(size, ushort.MaxValue);
        message[0] = 0;
        message[1] = syncId;
        BinaryPrimitives.WriteUInt16BigEndian(message.Slice(2), (ushort)size);
        message[4] = (byte)count;
        message[5] = Version;
        BinaryPrimitives.WriteUInt16BigEndian(message.Slice(6), (ushort)kind);
    }

    /// <summary>Writes one record at the start of <paramref name="dst"/> and returns its size (36 or 72).</summary>
    public static int WriteRecord(Span<byte> dst, in SyncRecord r)
    {
        bool v6 = r.IsV6;
        int size = RecordSize(v6);
        dst = dst.Slice(0, size);
        dst[0] = v6 ? TypeInet6 : (byte)0;
        dst[1] = r.Protocol;
        BinaryPrimitives.WriteUInt16BigEndian(dst.Slice(2), (ushort)size); // version 0
        BinaryPrimitives.WriteUInt32BigEndian(dst.Slice(4), r.Flags);
        BinaryPrimitives.WriteUInt16BigEndian(dst.Slice(8), r.State);
        BinaryPrimitives.WriteUInt16BigEndian(dst.Slice(10), r.ClientPort);
        BinaryPrimitives.WriteUInt16BigEndian(dst.Slice(12), r.VirtualPort);
        BinaryPrimitives.WriteUInt16BigEndian(dst.Slice(14), r.RealPort);
        BinaryPrimitives.WriteUInt32BigEndian(dst.Slice(16), r.FwMark);
        BinaryPrimitives.WriteUInt32BigEndian(dst.Slice(20), r.TimeoutSeconds);
        if (v6)
        {
            r.Client.WriteV6(dst.Slice(24));
            r.Virtual.WriteV6(dst.Slice(40));
            r.Real.WriteV6(dst.Slice(56));
        }
        else
        {
            r.Client.WriteV4(dst.Slice(24));
            r.Virtual.WriteV4(dst.Slice(28));
            r.Real.WriteV4(dst.Slice(32));
        }
        return size;
    }

    /// <summary>Appends the MAC over the first <paramref name="size"/> bytes; returns the datagram length (size + 16).</summary>
    public static int Seal(Span<byte> message, int size, ReadOnlySpan<byte> key)
    {
        Span<byte> mac = stackalloc byte[32];
        HMACSHA256.HashData(key, message.Slice(0, size), mac);
        mac.Slice(0, MacSize).CopyTo(message.Slice(size));
        return size + MacSize;
    }

    /// <summary>
    /// Checks a received datagram: layout first (cheap), then the MAC. On <see cref="SyncOpenResult.Ok"/>,
    /// <paramref name="records"/> holds the records, for <see cref="TryReadRecord"/>.
    /// </summary>
    public static SyncOpenResult Open(ReadOnlySpan<byte> datagram, ReadOnlySpan<byte> key, out SyncHeader header, out ReadOnlySpan<byte> records)
    {
        header = default;
        records = default;
        if (datagram.Length < HeaderSize + MacSize || datagram.Length > MaxDatagram) return SyncOpenResult.Malformed;
        int size = BinaryPrimitives.ReadUInt16BigEndian(datagram.Slice(2));
        if (datagram[0] != 0 || datagram[5] != Version || size < HeaderSize || size + MacSize != datagram.Length)
            return SyncOpenResult.Malformed;
        ushort kind = BinaryPrimitives.ReadUInt16BigEndian(datagram.Slice(6));
        if (kind > (ushort)SyncMessageKind.BulkEnd) return SyncOpenResult.Malformed;

        Span<byte> mac = stackalloc byte[32];
        HMACSHA256.HashData(key, datagram.Slice(0, size), mac);
        if (!CryptographicOperations.FixedTimeEquals(mac.Slice(0, MacSize), datagram.Slice(size, MacSize)))
            return SyncOpenResult.BadMac;

        // The records must add up to exactly the count and size the header gives.
        var body = datagram.Slice(HeaderSize, size - HeaderSize);
        int count = datagram[4], n = 0;
        var rest = body;
        while (rest.Length > 0)
        {
            if (!TryReadRecord(ref rest, out _)) return SyncOpenResult.Malformed;
            n++;
        }
        if (n != count) return SyncOpenResult.Malformed;
        if (kind != (ushort)SyncMessageKind.Connections && count != 0) return SyncOpenResult.Malformed;
        header = new SyncHeader(datagram[1], (SyncMessageKind)kind, count);
        records = body;
        return SyncOpenResult.Ok;
    }

    /// <summary>
    /// Reads the next record and advances <paramref name="records"/> past it (and its options). False, with
    /// <paramref name="records"/> unchanged, when what is left is not a valid record.
    /// </summary>
    public static bool TryReadRecord(ref ReadOnlySpan<byte> records, out SyncRecord record)
    {
        record = default;
        if (records.Length < RecordSizeV4) return false;
        byte type = records[0];
        if ((type & ~TypeInet6) != 0) return false;
        bool v6 = type == TypeInet6;
        int baseSize = RecordSize(v6);
        int verSize = BinaryPrimitives.ReadUInt16BigEndian(records.Slice(2));
        int size = verSize & SizeMask;
        if (verSize >> VersionShift != 0 || size < baseSize || size > records.Length || (size & 3) != 0) return false;
        byte protocol = records[1];
        if (protocol != IpProtocol.Tcp && protocol != IpProtocol.Udp) return false;
        var r = records.Slice(0, size);
        IpAddress c, v, d;
        if (v6)
        {
            c = IpAddress.FromV6Bytes(r.Slice(24));
            v = IpAddress.FromV6Bytes(r.Slice(40));
            d = IpAddress.FromV6Bytes(r.Slice(56));
            // An IPv4-mapped address in a v6 record would alias an IPv4 flow.
            if (c.IsV4 || v.IsV4 || d.IsV4) return false;
        }
        else
        {
            c = IpAddress.FromV4Bytes(r.Slice(24));
            v = IpAddress.FromV4Bytes(r.Slice(28));
            d = IpAddress.FromV4Bytes(r.Slice(32));
        }
        record = new SyncRecord(protocol,
            BinaryPrimitives.ReadUInt32BigEndian(r.Slice(4)),
            BinaryPrimitives.ReadUInt16BigEndian(r.Slice(8)),
            BinaryPrimitives.ReadUInt16BigEndian(r.Slice(10)),
            BinaryPrimitives.ReadUInt16BigEndian(r.Slice(12)),
            BinaryPrimitives.ReadUInt16BigEndian(r.Slice(14)),
            BinaryPrimitives.ReadUInt32BigEndian(r.Slice(16)),
            BinaryPrimitives.ReadUInt32BigEndian(r.Slice(20)),
            c, v, d);
        records = records.Slice(size);
        return true;
    }
}
