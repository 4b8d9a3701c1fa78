using System.Runtime.InteropServices;

namespace TunLB.Linux.Netlink;

/// <summary>
/// Walks the netlink messages of one received datagram. Every length is checked against what is left: a header that
/// claims more bytes than the datagram holds (or fewer than itself) ends the walk and sets <see cref="Malformed"/>
/// instead of reading past the buffer; the messages before it stay usable.
/// </summary>
internal ref struct NetlinkMessageReader
{
    private ReadOnlySpan<byte> _rest;

    public NetlinkMessageReader(ReadOnlySpan<byte> datagram) => _rest = datagram;

    /// <summary>Set when the walk stopped at bytes that are not a whole message.</summary>
    public bool Malformed { get; private set; }

    /// <summary>The next message's header and payload (the bytes after the header, up to nlmsg_len).</summary>
    public bool TryRead(out Interop.nlmsghdr header, out ReadOnlySpan<byte> payload)
    {
        header = default;
        payload = default;
        if (_rest.IsEmpty) return false;
        int hdr = NetlinkLayout.HeaderLength;
        if (_rest.Length < hdr) return Stop();
        header = MemoryMarshal.Read<Interop.nlmsghdr>(_rest);
        return NetlinkLayout.TrySplit(_rest, hdr, header.nlmsg_len, out payload, out _rest) || Stop();
    }

    private bool Stop()
    {
        Malformed = true;
        _rest = default;
        return false;
    }
}
