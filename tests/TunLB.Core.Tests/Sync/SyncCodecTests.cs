using System.Buffers.Binary;
using System.Text;
using TunLB.Core.Connections;
using TunLB.Core.Flows;
using TunLB.Core.Packets;
using TunLB.Core.Sync;

namespace TunLB.Core.Tests.Sync;

public class SyncCodecTests
{
    private static readonly byte[] Key = Encoding.UTF8.GetBytes("0123456789abcdef-sync-key");

    internal static SyncRecord V4(ushort cport = 40000, ConnState state = ConnState.Established) =>
        SyncRecord.From(new FlowKey(IpAddress.Parse("198.51.100.10"), IpAddress.Parse("203.0.113.10"), cport, 80, IpProtocol.Tcp),
            state, IpAddress.Parse("192.0.2.21"), 80, 900);

    private static SyncRecord V6() =>
        SyncRecord.From(new FlowKey(IpAddress.Parse("2001:db8::10"), IpAddress.Parse("2001:db8:1::80"), 5353, 53, IpProtocol.Udp),
            ConnState.Udp, IpAddress.Parse("2001:db8:2::21"), 53, 300);

    private static byte[] Message(params SyncRecord[] records)
    {
        var b = new SyncMessageBuilder(Key, 7);
        foreach (var r in records) Assert.True(b.TryAdd(r));
        return b.Seal().ToArray();
    }

    [Fact]
    public void An_ipv4_record_has_the_ipvs_v1_layout_byte_for_byte()
    {
        var m = Message(V4());
        Assert.Equal(8 + 36 + 16, m.Length);
        // header: reserved 0, syncid, size (without the MAC), count, version 1, spare = kind 0
        Assert.Equal(new byte[] { 0, 7, 0, 44, 1, 1, 0, 0 }, m[..8]);
        var r = m.AsSpan(8, 36);
        Assert.Equal(0, r[0]);                                                     // type: IPv4
        Assert.Equal(IpProtocol.Tcp, r[1]);
        Assert.Equal(36, BinaryPrimitives.ReadUInt16BigEndian(r[2..]));            // version 0, size 36
        Assert.Equal(0x0082u, BinaryPrimitives.ReadUInt32BigEndian(r[4..]));       // TUNNEL | NOOUTPUT, established
        Assert.Equal(1, BinaryPrimitives.ReadUInt16BigEndian(r[8..]));             // IP_VS_TCP_S_ESTABLISHED
        Assert.Equal(40000, BinaryPrimitives.ReadUInt16BigEndian(r[10..]));
        Assert.Equal(80, BinaryPrimitives.ReadUInt16BigEndian(r[12..]));
        Assert.Equal(80, BinaryPrimitives.ReadUInt16BigEndian(r[14..]));
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32BigEndian(r[16..]));           // fwmark
        Assert.Equal(900u, BinaryPrimitives.ReadUInt32BigEndian(r[20..]));         // timeout, seconds
        Assert.Equal(new byte[] { 198, 51, 100, 10, 203, 0, 113, 10, 192, 0, 2, 21 }, r[24..36].ToArray());
    }

    [Fact]
    public void Records_round_trip_in_both_families_and_the_mac_is_a_truncated_hmac_sha256()
    {
        var t = SyncRecord.From(new FlowKey(IpAddress.Parse("198.51.100.0"), IpAddress.Parse("203.0.113.10"), IpProtocol.Tcp, 443, 0),
            ConnState.Template, IpAddress.Parse("192.0.2.22"), 443, 360);
        var m = Message(V4(), V6(), t);
        Assert.Equal(8 + 36 + 72 + 36 + 16, m.Length);
        Assert.Equal(1, m[8 + 36]); // IPv6 record type
        Assert.Equal(72, BinaryPrimitives.ReadUInt16BigEndian(m.AsSpan(8 + 36 + 2)));
        var mac = System.Security.Cryptography.HMACSHA256.HashData(Key, m.AsSpan(0, m.Length - 16));
        Assert.Equal(mac[..16], m[^16..]);

        Assert.Equal(SyncOpenResult.Ok, SyncCodec.Open(m, Key, out var h, out var body));
        Assert.Equal((7, SyncMessageKind.Connections, 3), (h.SyncId, h.Kind, h.Count));
        var got = new List<SyncRecord>();
        var rest = body;
        while (SyncCodec.TryReadRecord(ref rest, out var r)) got.Add(r);
        Assert.Equal([V4(), V6(), t], got);
        Assert.Equal(ConnState.Template, got[2].ConnState);
        Assert.True(got[2].IsTemplate);
        Assert.Equal(new FlowKey(IpAddress.Parse("198.51.100.0"), IpAddress.Parse("203.0.113.10"), IpProtocol.Tcp, 443, 0), got[2].Key);
        Assert.Equal(ConnState.Udp, got[1].ConnState);
        Assert.Equal(ConnState.Established, got[0].ConnState);
    }

    [Fact]
    public void Another_key_or_a_changed_byte_is_a_bad_mac()
    {
        var m = Message(V4());
        Assert.Equal(SyncOpenResult.BadMac, SyncCodec.Open(m, Encoding.UTF8.GetBytes("another-key-entirely"), out _, out _));
        for (int i = 0; i < m.Length; i++)
        {
            var c = (byte[])m.Clone();
            c[i] ^= 0x10;
            Assert.NotEqual(SyncOpenResult.Ok, SyncCodec.Open(c, Key, out _, out _));
        }
    }

    [Fact]
    public void Layout_errors_are_malformed_even_with_a_good_mac()
    {
        // Wrong count, wrong version, records with a kind that takes none, a bad record size: each resealed with the right key.
        Assert.Equal(SyncOpenResult.Malformed, Reseal(Message(V4()), m => m[4] = 2));
        Assert.Equal(SyncOpenResult.Malformed, Reseal(Message(V4()), m => m[5] = 0));
        Assert.Equal(SyncOpenResult.Malformed, Reseal(Message(V4()), m => m[7] = (byte)SyncMessageKind.BulkEnd));
        Assert.Equal(SyncOpenResult.Malformed, Reseal(Message(V4()), m => m[7] = 9));
        Assert.Equal(SyncOpenResult.Malformed, Reseal(Message(V4()), m => m[8 + 3] = 40));
        Assert.Equal(SyncOpenResult.Malformed, Reseal(Message(V4()), m => m[8 + 1] = IpProtocol.Icmp));
        Assert.Equal(SyncOpenResult.Malformed, Reseal(Message(V4()), m => m[8] = 4));
        Assert.Equal(SyncOpenResult.Ok, Reseal(Message(V4()), _ => { }));
        Assert.Equal(SyncOpenResult.Malformed, SyncCodec.Open(new byte[10], Key, out _, out _));
        Assert.Equal(SyncOpenResult.Malformed, SyncCodec.Open(Message(V4())[..^1], Key, out _, out _));
    }

    private static SyncOpenResult Reseal(byte[] m, Action<byte[]> change)
    {
        int size = m.Length - SyncCodec.MacSize;
        change(m);
        SyncCodec.Seal(m, size, Key);
        return SyncCodec.Open(m, Key, out _, out _);
    }

    [Fact]
    public void Control_messages_carry_their_kind_in_the_spare_field_and_no_records()
    {
        var b = new SyncMessageBuilder(Key, 0);
        var m = b.Control(SyncMessageKind.BulkRequest).ToArray();
        Assert.Equal(new byte[] { 0, 0, 0, 8, 0, 1, 0, 1 }, m[..8]);
        Assert.Equal(SyncOpenResult.Ok, SyncCodec.Open(m, Key, out var h, out var body));
        Assert.Equal((SyncMessageKind.BulkRequest, 0, 0), (h.Kind, h.Count, body.Length));
    }

    [Fact]
    public void A_full_message_stays_within_one_packet_on_any_ipv6_path()
    {
        var b = new SyncMessageBuilder(Key, 0);
        int n = 0;
        while (b.TryAdd(V4((ushort)(1000 + n)))) n++;
        Assert.Equal((SyncCodec.MaxMessageSize - SyncCodec.HeaderSize) / SyncCodec.RecordSizeV4, n);
        var m = b.Seal();
        Assert.True(m.Length + 48 <= 1280);
        Assert.Equal(SyncOpenResult.Ok, SyncCodec.Open(m.Span, Key, out var h, out _));
        Assert.Equal(n, h.Count);
    }

    [Fact]
    public void Random_bytes_and_random_corruptions_never_throw_and_are_never_ok_without_the_key()
    {
        var rng = new Random(1234);
        var good = Message(V4(), V6(), V4(41000, ConnState.FinWait));
        for (int i = 0; i < 20000; i++)
        {
            byte[] m;
            if (i % 2 == 0)
            {
                m = new byte[rng.Next(0, 300)];
                rng.NextBytes(m);
                if (m.Length >= 8 && i % 4 == 0) { m[0] = 0; m[5] = 1; BinaryPrimitives.WriteUInt16BigEndian(m.AsSpan(2), (ushort)Math.Max(0, m.Length - 16)); }
            }
            else
            {
                m = (byte[])good.Clone();
                int flips = rng.Next(1, 5);
                for (int f = 0; f < flips; f++) m[rng.Next(m.Length)] ^= (byte)rng.Next(1, 256);
                if (rng.Next(3) == 0) m = m[..rng.Next(m.Length)];
                if (m.AsSpan().SequenceEqual(good)) continue; // two flips of one byte that cancel out
            }
            Assert.NotEqual(SyncOpenResult.Ok, SyncCodec.Open(m, Key, out _, out _));
            // The record reader alone (no MAC in front of it) must not throw either, whatever it gets.
            ReadOnlySpan<byte> rest = m;
            int guard = 0;
            while (SyncCodec.TryReadRecord(ref rest, out _)) Assert.True(++guard < 100);
        }
    }

    [Fact]
    public void Records_resealed_after_random_field_changes_either_parse_or_are_malformed()
    {
        // With a valid MAC the layout checks are the only guard: random field values must never throw.
        var rng = new Random(99);
        for (int i = 0; i < 5000; i++)
        {
            var m = Message(V4(), V6());
            int size = m.Length - SyncCodec.MacSize;
            for (int f = 0; f < 3; f++) m[rng.Next(size)] = (byte)rng.Next(256);
            SyncCodec.Seal(m, size, Key);
            var r = SyncCodec.Open(m, Key, out var h, out var body);
            Assert.True(r is SyncOpenResult.Ok or SyncOpenResult.Malformed);
            if (r != SyncOpenResult.Ok) continue;
            int n = 0;
            while (SyncCodec.TryReadRecord(ref body, out _)) n++;
            Assert.Equal(h.Count, n);
            Assert.Equal(0, body.Length);
        }
    }
}
