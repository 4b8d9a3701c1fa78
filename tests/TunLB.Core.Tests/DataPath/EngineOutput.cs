using TunLB.Core.DataPath;
using TunLB.Core.Flows;
using TunLB.Core.Packets;

namespace TunLB.Core.Tests.DataPath;

/// <summary>
/// The output area a director worker gives <see cref="DirectorEngine.Process"/> (one buffer and packet slots, allocated
/// once) and what the last call wrote into it.
/// </summary>
internal sealed class EngineOutput
{
    public byte[] Buffer { get; } = new byte[OutputPacket.DefaultOutputBytes];
    public OutputPacket[] Packets { get; } = new OutputPacket[OutputPacket.DefaultMaxPackets];

    /// <summary>Packets written by the last call.</summary>
    public int Count { get; set; }

    /// <summary>The bytes of packet <paramref name="i"/> (0 &lt;= i &lt; <see cref="Count"/>).</summary>
    public ReadOnlySpan<byte> this[int i] => Buffer.AsSpan(Packets[i].Offset, Packets[i].Length);
}

/// <summary>Test calls of the engine's one entry point, <see cref="DirectorEngine.Process"/>, the one the worker calls.</summary>
internal static class EngineCalls
{
    /// <summary>Processes one packet into <paramref name="output"/> (its <see cref="EngineOutput.Count"/> says how many packets).</summary>
    public static DropReason ProcessInto(this DirectorEngine e, ReadOnlySpan<byte> packet, EngineOutput output, long nowMs)
    {
        var r = e.Process(packet, output.Buffer, output.Packets, nowMs, out int count);
        output.Count = count;
        return r;
    }

    /// <summary>
    /// Processes one packet with room for one output packet in <paramref name="output"/>: its length and next hop when
    /// the engine wrote exactly one, else 0 and default. A result that needs several packets (outer fragments) drops as
    /// <see cref="DropReason.TooBig"/>, as it does for a worker whose slots run out.
    /// </summary>
    public static DropReason ProcessOne(this DirectorEngine e, ReadOnlySpan<byte> packet, Span<byte> output, long nowMs,
        out int outputLength, out IpAddress nextHop)
    {
        Span<OutputPacket> one = stackalloc OutputPacket[1];
        DropReason r = e.Process(packet, output, one, nowMs, out int count);
        bool sent = r == DropReason.None && count == 1;
        outputLength = sent ? one[0].Length : 0;
        nextHop = sent ? one[0].NextHop : default;
        return r;
    }
}
