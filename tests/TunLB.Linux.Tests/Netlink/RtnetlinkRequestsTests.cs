using System.Runtime.InteropServices;
using TunLB.Core.Flows;
using TunLB.Linux.Netlink;
using static TunLB.Linux.Tests.Netlink.NetlinkBytes;

namespace TunLB.Linux.Tests.Netlink;

/// <summary>The requests <see cref="RouteNetlinkSocket"/> sends, byte for byte: what `ip route get DST from SRC` sends.</summary>
public sealed class RtnetlinkRequestsTests
{
    [Fact]
    public void RouteGet_Ipv4WithSource_AsksTheTableForDestinationFromSource()
    {
        var buffer = new byte[RtnetlinkRequests.MaxLength];
        int n = RtnetlinkRequests.RouteGet(buffer, 77, IpAddress.Parse("192.0.2.11"), IpAddress.Parse("198.51.100.2"));
        var rtm = new Interop.rtmsg { rtm_family = Interop.AF_INET, rtm_dst_len = 32, rtm_src_len = 32, rtm_flags = Interop.RTM_F_LOOKUP_TABLE };
        byte[] expected = Message(Interop.RTM_GETROUTE, 77, Struct(rtm), Attribute(Interop.RTA_DST, Ip("192.0.2.11")), Attribute(Interop.RTA_SRC, Ip("198.51.100.2")));
        BitConverter.TryWriteBytes(expected.AsSpan(6), Interop.NLM_F_REQUEST);
        Assert.Equal(Convert.ToHexString(expected), Convert.ToHexString(buffer, 0, n));
    }

    [Fact]
    public void RouteGet_Ipv6_HasNoLookupTableFlag_AndDropsASourceOfTheOtherFamily()
    {
        var buffer = new byte[RtnetlinkRequests.MaxLength];
        foreach (var source in new[] { IpAddress.Parse("198.51.100.2"), default })
        {
            int n = RtnetlinkRequests.RouteGet(buffer, 3, IpAddress.Parse("2001:db8::7"), source);
            var rtm = new Interop.rtmsg { rtm_family = Interop.AF_INET6, rtm_dst_len = 128 };
            byte[] expected = Message(Interop.RTM_GETROUTE, 3, Struct(rtm), Attribute(Interop.RTA_DST, Ip("2001:db8::7")));
            BitConverter.TryWriteBytes(expected.AsSpan(6), Interop.NLM_F_REQUEST);
            Assert.Equal(Convert.ToHexString(expected), Convert.ToHexString(buffer, 0, n));
        }
        // The largest request fits MaxLength.
        Assert.Equal(RtnetlinkRequests.MaxLength, RtnetlinkRequests.RouteGet(buffer, 4, IpAddress.Parse("2001:db8::7"), IpAddress.Parse("2001:db8::1")));
    }

    [Fact]
    public void Dump_IsAZeroFamilyHeaderWithTheDumpFlags()
    {
        var buffer = new byte[64];
        Array.Fill(buffer, (byte)0xAA);
        int n = RtnetlinkRequests.Dump(buffer, Interop.RTM_GETNEIGH, Marshal.SizeOf<Interop.ndmsg>(), 9);
        Assert.Equal(16 + 12, n);
        var h = MemoryMarshal.Read<Interop.nlmsghdr>(buffer);
        Assert.Equal((28u, Interop.RTM_GETNEIGH, (ushort)(Interop.NLM_F_REQUEST | Interop.NLM_F_DUMP), 9u, 0u),
            (h.nlmsg_len, h.nlmsg_type, h.nlmsg_flags, h.nlmsg_seq, h.nlmsg_pid));
        Assert.All(buffer[16..28], b => Assert.Equal(0, b));
    }
}
