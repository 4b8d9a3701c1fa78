using TunLB.Core.Packets;
using TunLB.Linux;

namespace TunLB.Tests.Shared;

/// <summary>
/// An <see cref="IPacketSender"/> that keeps what it was given: one entry per <see cref="SendMany"/> call, each packet
/// copied out of the buffer with its descriptor. <see cref="FailPerCall"/> makes the last packets of each call fail.
/// </summary>
internal sealed class InMemoryPacketSender : IPacketSender
{
    private readonly List<List<(OutputPacket Meta, byte[] Bytes)>> _calls = new();
    private readonly long[] _sent = new long[2];
    private long _bytes;

    /// <summary>Packets of every call that fail (the last ones of the batch), not counted as sent.</summary>
    public int FailPerCall { get; set; }

    /// <summary>Each SendMany call's packets, in order.</summary>
    public IReadOnlyList<IReadOnlyList<(OutputPacket Meta, byte[] Bytes)>> Calls { get { lock (_calls) return _calls.ToArray(); } }

    public int SendMany(ReadOnlySpan<byte> buffer, ReadOnlySpan<OutputPacket> packets)
    {
        var call = new List<(OutputPacket, byte[])>();
        int failed = Math.Min(FailPerCall, packets.Length);
        for (int i = 0; i < packets.Length; i++)
        {
            var p = packets[i];
            call.Add((p, buffer.Slice(p.Offset, p.Length).ToArray()));
            if (i >= packets.Length - failed) continue;
            _sent[(int)p.Kind]++;
            _bytes += p.Length;
        }
        lock (_calls) _calls.Add(call);
        return failed;
    }

    public long SentPackets(OutputKind kind) => _sent[(int)kind];
    public long SentBytes => _bytes;
}
