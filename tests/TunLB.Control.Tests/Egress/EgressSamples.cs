using System.Buffers.Binary;
using TunLB.Core.Egress;
using TunLB.Core.Flows;
using TunLB.Core.Packets;

namespace TunLB.Control.Tests.Egress;

/// <summary>A recorder holding three ICMP answers to one session's probes (one seen twice); shared with the CLI tests.</summary>
internal static class EgressSamples
{
    internal static readonly EgressSessionId Session = new(0x0123456789ABCDEFUL);
    internal static uint A(string s) => IpAddress.Parse(s).V4;
    internal static IpAddress IP(string s) => IpAddress.Parse(s);

    /// <summary>An ICMP error from <paramref name="from"/> quoting a whole VIP probe (Linux-style quote).</summary>
    internal static byte[] Answer(string from, byte type, byte code, int ttl, int seq)
    {
        var probe = new byte[EgressProbe.PacketLength];
        EgressProbe.Write(probe, A("203.0.113.10"), A("198.51.100.10"), Session, ttl, seq, EgressSeries.Vip);
        var p = new byte[28 + probe.Length];
        p[0] = 0x45; BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(2), (ushort)p.Length); p[8] = 64; p[9] = 1;
        BinaryPrimitives.WriteUInt32BigEndian(p.AsSpan(12), A(from));
        BinaryPrimitives.WriteUInt32BigEndian(p.AsSpan(16), A("203.0.113.10"));
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(10), Checksum.Compute(p.AsSpan(0, 20)));
        p[20] = type; p[21] = code;
        probe.CopyTo(p.AsSpan(28));
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(22), Checksum.Compute(p.AsSpan(20)));
        return p;
    }

    internal static EgressAnswerRecorder Recorder()
    {
        var r = new EgressAnswerRecorder(64);
        Assert.True(r.TryRecord(Answer("192.0.2.129", 11, 0, 1, 0), 1000));
        Assert.True(r.TryRecord(Answer("192.0.2.129", 11, 0, 1, 0), 1001)); // the same answer seen on a second interface
        Assert.True(r.TryRecord(Answer("198.51.100.10", 3, 3, 4, 1), 1500));
        return r;
    }
}
