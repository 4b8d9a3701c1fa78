using TunLB.Core.DataPath;
using TunLB.Core.Flows;
using TunLB.Core.Packets;

namespace TunLB.Linux;

/// <summary>
/// Sends what <see cref="DirectorEngine"/> produced: every <see cref="OutputPacket"/> (offsets into one output buffer) is
/// a complete IP packet (IP-in-IP, GUE-in-UDP, outer fragments, or an ICMP reply to a client), handed to the raw
/// socket of its family with its next hop as the sendto address. GUE needs no UDP socket: the engine writes the
/// UDP header itself (per-flow source port), so a header-included raw socket sends it like any other packet.
/// With <see cref="UseLinkLayer"/>, packets whose next hop a <see cref="NextHopTable"/> resolved go straight to the
/// Ethernet device through a <see cref="PacketSender"/> instead (the rest, and one keepalive packet per destination
/// every few seconds, still take the raw socket).
/// Hot path: no allocation, exceptions or locks.
/// </summary>
public sealed class OutputSender : IPacketSender, IDisposable
{
    private readonly RawIpSocket? _v4;
    private readonly RawIp6Socket? _v6;
    private PacketSender? _l2;
    private NextHopTable? _hops;
    private LinkTransmitters? _links;

    private OutputSender(RawIpSocket? v4, RawIp6Socket? v6) { _v4 = v4; _v6 = v6; }

    /// <summary>
    /// Sends packets for destinations <paramref name="hops"/> resolves through an AF_PACKET socket (opened here), and,
    /// with <paramref name="links"/>, through their device's transmit ring first (flushed at the end of every
    /// <see cref="SendMany"/>, and before a packet takes the raw socket so a flow's packets keep their order).
    /// The transmitters are owned (disposed) by this sender from then on.
    /// </summary>
    public void UseLinkLayer(NextHopTable hops, LinkTransmitters? links = null)
    {
        _l2 ??= PacketSender.Open();
        _hops = hops;
        _links = links;
    }

    /// <summary>The transmit rings in use (null: sendmmsg only).</summary>
    public LinkTransmitters? Links => _links;

    /// <summary>Packets handed to the device directly (a subset of <see cref="Sent"/>).</summary>
    public long SentLinkLayer;

    /// <summary>Opens the raw senders needed: IPv4 when <paramref name="ipv4"/>, IPv6 when <paramref name="ipv6"/>.</summary>
    public static OutputSender Open(bool ipv4, bool ipv6, int sendBufferBytes = 0)
    {
        RawIpSocket? v4 = null;
        try
        {
            v4 = ipv4 ? RawIpSocket.OpenSender(sendBufferBytes) : null;
            var v6 = ipv6 ? RawIp6Socket.OpenSender() : null;
            return new OutputSender(v4, v6);
        }
        catch { v4?.Dispose(); throw; }
    }

    /// <summary>Packets sent / failed per <see cref="OutputKind"/> (index by <c>(int)kind</c>). Written by the sending thread.</summary>
    public long[] Sent { get; } = new long[2];
    public long[] Failed { get; } = new long[2];
    public long SentBytes { get; private set; }

    public long SentPackets(OutputKind kind) => Sent[(int)kind];

    /// <summary>errno of the last failure (diagnostics).</summary>
    public int LastError { get; private set; }

    /// <summary>Sends one packet to its next hop by family. False on error (or when that family's socket is not open).</summary>
    public bool Send(ReadOnlySpan<byte> packet, in IpAddress nextHop)
    {
        bool ok;
        if (nextHop.IsV4)
        {
            ok = _v4 is not null && _v4.Send(packet, nextHop);
            if (!ok) LastError = _v4?.LastError ?? 97;
        }
        else
        {
            ok = _v6 is not null && _v6.Send(packet, nextHop);
            if (!ok) LastError = _v6?.LastError ?? 97;
        }
        return ok;
    }

    /// <summary>
    /// Sends <paramref name="packets"/> (offsets into <paramref name="buffer"/>): runs of IPv4 packets go out in one
    /// sendmmsg(2) call each, IPv6 packets one by one. A packet that fails is counted and skipped. Returns how many failed.
    /// </summary>
    public int SendMany(ReadOnlySpan<byte> buffer, ReadOnlySpan<OutputPacket> packets)
    {
        int failed = 0, i = 0;
        NextHopTable.Snapshot? hops = _hops?.Current;
        if (hops is null) _hops?.NoteMiss();
        long now = hops is null ? 0 : Environment.TickCount64;
        while (i < packets.Length)
        {
            if (hops is not null)
            {
                int direct = _l2!.SendMany(buffer, packets.Slice(i), hops, now, out bool unresolved, _links);
                for (int k = i; k < i + direct; k++) { Sent[(int)packets[k].Kind]++; SentBytes += packets[k].Length; }
                SentLinkLayer += direct;
                i += direct;
                if (i >= packets.Length) break;
                if (_links is { Pending: > 0 }) FlushLinks();
                if (!unresolved)
                {
                    // The device refused this one (e.g. EMSGSIZE, ENOBUFS): give it to the kernel's IP stack instead.
                    LastError = _l2.LastError;
                    ref readonly OutputPacket f = ref packets[i];
                    if (Send(buffer.Slice(f.Offset, f.Length), f.NextHop)) { Sent[(int)f.Kind]++; SentBytes += f.Length; }
                    else { Failed[(int)f.Kind]++; failed++; }
                    i++;
                    continue;
                }
                // packets[i] takes the raw socket (unresolved next hop, keepalive, or an ICMP reply to a client).
                ref readonly OutputPacket o1 = ref packets[i];
                if (Send(buffer.Slice(o1.Offset, o1.Length), o1.NextHop)) { Sent[(int)o1.Kind]++; SentBytes += o1.Length; }
                else { Failed[(int)o1.Kind]++; failed++; }
                i++;
                continue;
            }
            if (packets[i].NextHop.IsV4 && _v4 is not null)
            {
                int j = i;
                while (j < packets.Length && packets[j].NextHop.IsV4) j++;
                int sent = _v4.SendMany(buffer, packets.Slice(i, j - i));
                for (int k = i; k < i + sent; k++) { Sent[(int)packets[k].Kind]++; SentBytes += packets[k].Length; }
                if (i + sent < j)
                {
                    // The packet at i + sent failed: count it and go on after it.
                    LastError = _v4.LastError;
                    Failed[(int)packets[i + sent].Kind]++;
                    failed++;
                    i += sent + 1;
                }
                else i = j;
                continue;
            }
            ref readonly OutputPacket o = ref packets[i];
            if (Send(buffer.Slice(o.Offset, o.Length), o.NextHop)) { Sent[(int)o.Kind]++; SentBytes += o.Length; }
            else { Failed[(int)o.Kind]++; failed++; }
            i++;
        }
        if (_links is not null) failed += FlushLinks();
        return failed;
    }

    /// <summary>Kicks the rings; a failed kick's frames stay queued for the next one, so it counts as one failure.</summary>
    private int FlushLinks()
    {
        int f = _links!.Flush();
        if (f > 0) Failed[(int)OutputKind.Tunnel] += f;
        return f;
    }

    public void Dispose()
    {
        _links?.Dispose();
        _l2?.Dispose();
        _v4?.Dispose();
        _v6?.Dispose();
    }
}
