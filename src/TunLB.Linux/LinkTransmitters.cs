using System.Runtime.InteropServices;

namespace TunLB.Linux;

/// <summary>
/// One sending thread's transmit rings, by device: the AF_XDP sockets it was given (<see cref="Add"/>, io = "xdp": the
/// capture device's TX rings) and, for any other device a next hop leaves through, a <see cref="PacketTxRing"/> opened
/// the first time a packet needs it. A device whose ring the kernel refuses is remembered as refused (the packets take
/// sendmmsg) and the refusal is reported once through <see cref="Refused"/>.
/// </summary>
/// <remarks>Hot path (<see cref="TryQueue"/>, <see cref="Flush"/>): a scan of at most <see cref="MaxDevices"/> entries, no
/// allocation; opening a ring is the one cold step, once per device.</remarks>
public sealed class LinkTransmitters : IDisposable
{
    /// <summary>Devices tracked; packets to further devices take sendmmsg.</summary>
    public const int MaxDevices = 8;

    private readonly int[] _ifindex = new int[MaxDevices];
    private readonly ILinkTransmitter?[] _tx = new ILinkTransmitter?[MaxDevices];
    private readonly bool[] _owned = new bool[MaxDevices];
    private readonly Func<int, int, ILinkTransmitter>? _openRing;
    private readonly Action<string>? _log;
    private int _count;

    /// <param name="openRing">Opens a ring for (ifindex, mtu); null: no rings, only the transmitters added.</param>
    /// <param name="log">Receives one line per device whose ring the kernel refused.</param>
    public LinkTransmitters(Func<int, int, ILinkTransmitter>? openRing, Action<string>? log = null)
    {
        _openRing = openRing;
        _log = log;
    }

    /// <summary>Rings opened with the defaults (<see cref="PacketTxRing.Open"/>).</summary>
    public static LinkTransmitters WithPacketRings(Action<string>? log = null) =>
        new((ifindex, mtu) => PacketTxRing.Open(ifindex, mtu > 0 ? mtu : 1500), log);

    /// <summary>Uses <paramref name="tx"/> for its device (the first one given per device wins). Not owned: not disposed here.</summary>
    public void Add(ILinkTransmitter tx)
    {
        if (_count == MaxDevices || IndexOf(tx.IfIndex) >= 0) return;
        _ifindex[_count] = tx.IfIndex; _tx[_count] = tx; _count++;
    }

    /// <summary>Refusals so far: "ifindex N: message" (cold; read by the control plane for the API and logs).</summary>
    public IReadOnlyList<string> Refused => _refused;
    private volatile string[] _refused = [];

    /// <summary>Frames handed to rings so far, by kind ("tx ring", "af_xdp").</summary>
    public IEnumerable<(string Kind, long Frames)> Totals()
    {
        for (int i = 0; i < _count; i++)
            if (_tx[i] is { } t) yield return (t.Kind, t.Queued);
    }

    /// <summary>Frames the kernel refused after they were queued (wrong format), all devices.</summary>
    public long Rejected
    {
        get { long n = 0; for (int i = 0; i < _count; i++) n += _tx[i]?.Rejected ?? 0; return n; }
    }

    /// <summary>
    /// Queues <paramref name="header"/> + <paramref name="packet"/> on <paramref name="ifindex"/>'s ring. False (send it
    /// another way) without a header, when the packet exceeds <paramref name="mtu"/>, without a usable ring, or when the
    /// ring is full.
    /// </summary>
    public bool TryQueue(int ifindex, int mtu, ReadOnlySpan<byte> header, ReadOnlySpan<byte> packet)
    {
        if (header.IsEmpty || (mtu > 0 && packet.Length > mtu)) return false;
        int i = IndexOf(ifindex);
        if (i < 0) i = Open(ifindex, mtu);
        return i >= 0 && _tx[i] is { } t && t.TryQueue(header, packet);
    }

    /// <summary>Kicks every ring with frames queued. Returns how many kicks failed (a kernel error other than "busy").</summary>
    public int Flush()
    {
        int failed = 0;
        for (int i = 0; i < _count; i++)
            if (_tx[i] is { } t && !t.Flush()) failed++;
        return failed;
    }

    /// <summary>Frames queued on any ring and not yet flushed.</summary>
    public int Pending
    {
        get { int n = 0; for (int i = 0; i < _count; i++) n += _tx[i]?.Pending ?? 0; return n; }
    }

    private int IndexOf(int ifindex)
    {
        for (int i = 0; i < _count; i++) if (_ifindex[i] == ifindex) return i;
        return -1;
    }

    // Cold: once per device.
    private int Open(int ifindex, int mtu)
    {
        if (_count == MaxDevices) return -1;
        ILinkTransmitter? t = null;
        if (_openRing is not null)
        {
            try { t = _openRing(ifindex, mtu); }
            catch (Exception e) when (e is NativeErrorException or ExternalException or ArgumentException)
            {
                string line = $"ifindex {ifindex}: {e.Message}";
                _refused = [.. _refused, line];
                _log?.Invoke($"tunlb director: transmit ring refused on {line}; sending with sendmmsg there");
            }
        }
        _ifindex[_count] = ifindex; _tx[_count] = t; _owned[_count] = t is not null; _count++;
        return _count - 1;
    }

    public void Dispose()
    {
        for (int i = 0; i < _count; i++) if (_owned[i]) _tx[i]?.Dispose();
    }
}
