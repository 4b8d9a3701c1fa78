using System.Buffers.Binary;
using System.Diagnostics;
using System.Text.RegularExpressions;
using TunLB.Core.Flows;
using TunLB.Core.Packets;
using Xunit.Abstractions;

namespace TunLB.Core.Tests.Packets;

/// <summary>
/// Cross-checks our IPIP output with Wireshark's dissectors. Skips (passes with a message) when tshark is not
/// on PATH. Install it with `apt-get install tshark`.
/// </summary>
public class TsharkTests(ITestOutputHelper output)
{
    /// <summary>LINKTYPE_IPV4 (228): each record is a bare IPv4 datagram. tshark 4.0 also reads LINKTYPE_RAW (101).</summary>
    private const uint LinkTypeIpv4 = 228;

    private static readonly IpAddress Director = IpAddress.Parse(Fixtures.Director);
    private static readonly IpAddress Real = IpAddress.Parse(Fixtures.Real);

    internal static readonly Regex Problem = new(@"Malformed|\bBad\b|incorrect|Expert Info \(Error", RegexOptions.Compiled);

    internal static string? FindTshark()
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator))
        {
            if (dir.Length == 0) continue;
            var p = Path.Combine(dir, "tshark");
            if (File.Exists(p)) return p;
        }
        return null;
    }

    internal static void WritePcap(string path, IEnumerable<byte[]> packets) => WritePcap(path, packets, LinkTypeIpv4);

    /// <summary>LINKTYPE_RAW (101): bare IPv4 or IPv6 packets, told apart by the version nibble.</summary>
    internal const uint LinkTypeRaw = 101;

    internal static void WritePcap(string path, IEnumerable<byte[]> packets, uint linkType)
    {
        using var fs = File.Create(path);
        Span<byte> h = stackalloc byte[24];
        BinaryPrimitives.WriteUInt32LittleEndian(h, 0xa1b2c3d4);     // microsecond pcap, little-endian
        BinaryPrimitives.WriteUInt16LittleEndian(h[4..], 2);
        BinaryPrimitives.WriteUInt16LittleEndian(h[6..], 4);
        BinaryPrimitives.WriteInt32LittleEndian(h[8..], 0);           // thiszone
        BinaryPrimitives.WriteUInt32LittleEndian(h[12..], 0);         // sigfigs
        BinaryPrimitives.WriteUInt32LittleEndian(h[16..], 65535);     // snaplen
        BinaryPrimitives.WriteUInt32LittleEndian(h[20..], linkType);
        fs.Write(h);
        uint seconds = 0;
        Span<byte> r = stackalloc byte[16];
        foreach (var p in packets)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(r, seconds++);
            BinaryPrimitives.WriteUInt32LittleEndian(r[4..], 0);
            BinaryPrimitives.WriteUInt32LittleEndian(r[8..], (uint)p.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(r[12..], (uint)p.Length);
            fs.Write(r);
            fs.Write(p);
        }
    }

    internal static string RunTshark(string tshark, string pcap, bool checkTcpChecksums = true)
    {
        var psi = new ProcessStartInfo(tshark)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { "-r", pcap, "-V", "-o", "ip.check_checksum:TRUE", "-o", $"tcp.check_checksum:{(checkTcpChecksums ? "TRUE" : "FALSE")}",
                     "-o", "udp.check_checksum:TRUE" })
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        Assert.True(p.WaitForExit(60_000), "tshark timed out");
        Assert.True(p.ExitCode == 0, $"tshark exit {p.ExitCode}: {stderr.Result}");
        return stdout.Result;
    }

    private List<byte[]> Encapsulated(byte innerTtlIncrement)
    {
        var list = new List<byte[]>();
        foreach (var f in Fixtures.Packets.Where(p => p.IsOk && p.Output is not null))
        {
            var buf = new byte[f.Input.Length + Tunnel.Ipv4HeaderLength];
            int n = Tunnel.Encapsulate(f.Input, buf, Director, Real, EncapKind.Ipip, 0, 0, false, 64,
                (uint)f.Expect.GetProperty("encap_id").GetInt32(), 0, innerTtlIncrement);
            Assert.Equal(buf.Length, n);
            list.Add(buf);
        }
        return list;
    }

    private bool Skip(out string tshark)
    {
        tshark = FindTshark()!;
        if (tshark is null)
        {
            output.WriteLine("SKIPPED: tshark not on PATH (apt-get install tshark); Wireshark cross-check not run.");
            return true;
        }
        return false;
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void Wireshark_finds_no_problem_in_our_encapsulations(byte innerTtlIncrement)
    {
        if (Skip(out var tshark)) return;
        var packets = Encapsulated(innerTtlIncrement);
        var pcap = Path.Combine(Path.GetTempPath(), $"tunlb-encap-{Environment.ProcessId}-{innerTtlIncrement}.pcap");
        try
        {
            WritePcap(pcap, packets);
            var text = RunTshark(tshark, pcap);
            var problems = text.Split('\n').Where(l => Problem.IsMatch(l)).ToList();
            Assert.True(problems.Count == 0, "tshark reported:\n" + string.Join('\n', problems));
            // Positive evidence that the dissection really happened: one IPIP outer header per packet and
            // a verified ("Good") checksum for every outer and inner header.
            Assert.Equal(packets.Count, Regex.Matches(text, @"Protocol: IPIP \(4\)").Count);
            Assert.Equal(2 * packets.Count, Regex.Matches(text, @"\[Header checksum status: Good\]").Count);
            Assert.Equal(packets.Count, Regex.Matches(text, @"Src: 203\.0\.113\.2, Dst: 192\.0\.2\.11").Count);
            Assert.Equal(packets.Count, Regex.Matches(text, @"Src: 198\.51\.100\.10, Dst: 203\.0\.113\.10").Count);
            output.WriteLine($"tshark verified {packets.Count} encapsulated packets (inner TTL +{innerTtlIncrement}).");
        }
        finally { File.Delete(pcap); }
    }

    [Fact]
    public void Wireshark_check_detects_a_corrupted_checksum()
    {
        // Negative control: the check above must be able to fail.
        if (Skip(out var tshark)) return;
        var packets = Encapsulated(0);
        packets[0][10] ^= 0x01;   // outer checksum
        packets[1][20 + 11] ^= 0x01; // inner checksum
        var pcap = Path.Combine(Path.GetTempPath(), $"tunlb-bad-{Environment.ProcessId}.pcap");
        try
        {
            WritePcap(pcap, packets.Take(2));
            var text = RunTshark(tshark, pcap);
            Assert.Equal(2, Regex.Matches(text, @"\[Header checksum status: Bad\]").Count);
            Assert.Contains(text.Split('\n'), l => Problem.IsMatch(l));
        }
        finally { File.Delete(pcap); }
    }

    [Fact]
    public void Wireshark_finds_no_problem_in_the_wire_fixtures_engine_output()
    {
        // Every packet the engine produces for wire.json (ICMP replies and forwards, outer fragments, 6in6/4in6/6in4,
        // GUE), in one capture so fragments reassemble.
        if (Skip(out var tshark)) return;
        var packets = new List<byte[]>();
        foreach (var c in WireFixtures.Engine)
            packets.AddRange(WireFixtureTests.Run(c, out _).Select(o => o.Bytes));
        // A Packet Too Big quotes a truncated packet (RFC 4443: as much as fits in 1280 bytes) and tshark then
        // "verifies" the quoted TCP checksum over the truncated bytes. Those go through a second pass with TCP
        // checksum checking off; everything else is checked with it on.
        bool IsPtb(byte[] p) => p[0] >> 4 == 6 && p[6] == IpProtocol.Icmpv6 && p[40] == Icmp.V6PacketTooBig;
        var ptbs = packets.Where(IsPtb).ToList();
        packets = packets.Where(p => !IsPtb(p)).ToList();
        var pcap = Path.Combine(Path.GetTempPath(), $"tunlb-wire-{Environment.ProcessId}.pcap");
        var pcapPtb = Path.Combine(Path.GetTempPath(), $"tunlb-wire-ptb-{Environment.ProcessId}.pcap");
        try
        {
            WritePcap(pcap, packets, LinkTypeRaw);
            WritePcap(pcapPtb, ptbs, LinkTypeRaw);
            var text = RunTshark(tshark, pcap);
            var ptbText = RunTshark(tshark, pcapPtb, checkTcpChecksums: false);
            Assert.Contains("Packet Too Big", ptbText);
            Assert.Contains("[Checksum Status: Good]", ptbText);
            var problems = text.Split('\n').Concat(ptbText.Split('\n')).Where(l => Problem.IsMatch(l)).ToList();
            Assert.True(problems.Count == 0, "tshark reported:\n" + string.Join('\n', problems));
            Assert.Equal(packets.Count, Regex.Matches(text, @"^Frame \d+:", RegexOptions.Multiline).Count);
            Assert.Contains("Fragment Offset: 1376", text);                         // outer IPv4 fragments
            Assert.Contains("Reassembled IPv6", text);                             // outer IPv6 fragments
            Assert.Contains("Fragmentation needed", text);
            Assert.Contains("Destination Port: 6080", text);
            output.WriteLine($"tshark verified {packets.Count} engine output packets from wire.json.");
        }
        finally
        {
            if (Environment.GetEnvironmentVariable("TUNLB_KEEP_PCAP") is null) { File.Delete(pcap); File.Delete(pcapPtb); }
        }
    }
}
