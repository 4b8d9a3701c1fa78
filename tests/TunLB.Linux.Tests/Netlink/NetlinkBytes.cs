using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace TunLB.Linux.Tests.Netlink;

/// <summary>Builds netlink messages byte by byte for the parser tests (host byte order, 4-byte alignment).</summary>
internal static class NetlinkBytes
{
    public static byte[] Attribute(ushort type, ReadOnlySpan<byte> value)
    {
        var a = new byte[(4 + value.Length + 3) & ~3];
        BitConverter.TryWriteBytes(a.AsSpan(0), (ushort)(4 + value.Length));
        BitConverter.TryWriteBytes(a.AsSpan(2), type);
        value.CopyTo(a.AsSpan(4));
        return a;
    }

    public static byte[] U32(uint v) => BitConverter.GetBytes(v);

    public static byte[] Struct<T>(T value) where T : unmanaged
    {
        var b = new byte[Unsafe.SizeOf<T>()];
        MemoryMarshal.Write(b, in value);
        return b;
    }

    /// <summary>One message: header (nlmsg_len covering the unpadded payload), then the payload padded to 4.</summary>
    public static byte[] Message(ushort type, uint seq, params byte[][] parts)
    {
        var payload = parts.SelectMany(p => p).ToArray();
        var m = new byte[(16 + payload.Length + 3) & ~3];
        var h = new Interop.nlmsghdr { nlmsg_len = (uint)(16 + payload.Length), nlmsg_type = type, nlmsg_seq = seq };
        MemoryMarshal.Write(m, in h);
        payload.CopyTo(m, 16);
        return m;
    }

    /// <summary>The payload (after the 16-byte header) of <see cref="Message"/>'s output.</summary>
    public static byte[] Payload(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    public static byte[] Rtmsg(byte family, byte type) => Struct(new Interop.rtmsg { rtm_family = family, rtm_type = type, rtm_dst_len = (byte)(family == Interop.AF_INET ? 32 : 128) });

    public static byte[] Ndmsg(byte family, int ifindex, ushort state) => Struct(new Interop.ndmsg { ndm_family = family, ndm_ifindex = ifindex, ndm_state = state });

    public static byte[] Ifinfomsg(int index, ushort type, uint flags) => Struct(new Interop.ifinfomsg { ifi_index = index, ifi_type = type, ifi_flags = flags });

    public static byte[] Ip(string a) => System.Net.IPAddress.Parse(a).GetAddressBytes();
}
