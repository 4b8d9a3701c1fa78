using System.Buffers.Binary;
using TunLB.Core.Flows;
using TunLB.Core.Packets;

namespace TunLB.Core.Tests.Packets;

public class TunnelPmtuTests
{
    // ICMP frag-needed from router 198.18.2.2 to the director 203.0.113.2, quoting an IPIP packet to 192.0.2.131.
    private static byte[] FragNeeded(byte type, byte code, ushort mtu, byte quotedProto)
    {
        var p = new byte[20 + 8 + 28];
        p[0] = 0x45; BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(2), (ushort)p.Length); p[8] = 64; p[9] = 1;
        new byte[] { 198, 18, 2, 2 }.CopyTo(p, 12); new byte[] { 203, 0, 113, 2 }.CopyTo(p, 16);
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(10), Checksum.Compute(p.AsSpan(0, 20)));
        p[20] = type; p[21] = code; BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(26), mtu);
        var q = p.AsSpan(28);
        q[0] = 0x45; BinaryPrimitives.WriteUInt16BigEndian(q.Slice(2), 1500); q[6] = 0x40; q[8] = 63; q[9] = quotedProto;
        new byte[] { 203, 0, 113, 2 }.CopyTo(q.Slice(12)); new byte[] { 192, 0, 2, 131 }.CopyTo(q.Slice(16));
        return p;
    }

    [Fact]
    public void LearnsTheMtuTowardTheQuotedRealServer()
    {
        Assert.True(TunnelPmtu.TryParseFragNeeded(FragNeeded(3, 4, 1400, 4), out var rs, out var mtu));
        Assert.Equal(IpAddress.Parse("192.0.2.131"), rs);
        Assert.Equal(1400, mtu);
    }

    [Theory]
    [InlineData(3, 3, 4)]   // port unreachable
    [InlineData(11, 0, 4)]  // time exceeded
    [InlineData(3, 4, 6)]   // quotes TCP, not a tunnel packet
    public void IgnoresOtherIcmp(byte type, byte code, byte proto) =>
        Assert.False(TunnelPmtu.TryParseFragNeeded(FragNeeded(type, code, 1400, proto), out _, out _));

    [Fact]
    public void ClampsTinyMtusAndHandlesOldRoutersThatReportZero()
    {
        Assert.True(TunnelPmtu.TryParseFragNeeded(FragNeeded(3, 4, 68, 4), out _, out var tiny));
        Assert.Equal(TunnelPmtu.MinimumMtu, tiny);
        Assert.True(TunnelPmtu.TryParseFragNeeded(FragNeeded(3, 4, 0, 17), out _, out var zero));
        Assert.Equal(1006, zero);
    }

    [Fact]
    public void RejectsTruncatedPackets()
    {
        var p = FragNeeded(3, 4, 1400, 4);
        for (int len = 0; len < 48; len++) // a quoted IPv4 header (20 bytes) after the ICMP header is the minimum
            Assert.False(TunnelPmtu.TryParseFragNeeded(p.AsSpan(0, len), out _, out _));
    }

    [Fact]
    public void GivesTheQuotedTunnelSourceSoSpoofedMessagesCanBeIgnored()
    {
        Assert.True(TunnelPmtu.TryParseFragNeeded(FragNeeded(3, 4, 1400, 4), out var src, out var rs, out _));
        Assert.Equal(IpAddress.Parse("203.0.113.2"), src);
        Assert.Equal(IpAddress.Parse("192.0.2.131"), rs);
    }

    private static byte[] PacketTooBig(byte type, uint mtu, byte next)
    {
        var m = new byte[8 + 40 + 8];
        m[0] = type; BinaryPrimitives.WriteUInt32BigEndian(m.AsSpan(4), mtu);
        var q = m.AsSpan(8);
        q[0] = 0x60; q[6] = next; q[7] = 64;
        IpAddress.Parse("2001:db8:1::2").WriteV6(q.Slice(8));
        IpAddress.Parse("2001:db8:2::131").WriteV6(q.Slice(24));
        return m;
    }

    [Fact]
    public void LearnsIpv6MtuFromPacketTooBigQuotingA6in6Packet()
    {
        Assert.True(TunnelPmtu.TryParsePacketTooBig(PacketTooBig(2, 1400, 41), out var src, out var rs, out var mtu));
        Assert.Equal(IpAddress.Parse("2001:db8:1::2"), src);
        Assert.Equal(IpAddress.Parse("2001:db8:2::131"), rs);
        Assert.Equal(1400, mtu);
        Assert.True(TunnelPmtu.TryParsePacketTooBig(PacketTooBig(2, 600, 4), out _, out _, out var low));
        Assert.Equal(1280, low);
        Assert.False(TunnelPmtu.TryParsePacketTooBig(PacketTooBig(1, 1400, 41), out _, out _, out _)); // unreachable, not PTB
        Assert.False(TunnelPmtu.TryParsePacketTooBig(PacketTooBig(2, 1400, 6), out _, out _, out _));  // quotes TCP
        Assert.False(TunnelPmtu.TryParsePacketTooBig(PacketTooBig(2, 1400, 41).AsSpan(0, 47), out _, out _, out _));
    }
}
