using System.Text;
using TunLB.Core.Connections;
using TunLB.Core.Flows;
using TunLB.Core.Packets;
using TunLB.Core.Sync;
using TunLB.Core.Tests.DataPath;
using TunLB.Core.Tests.Packets;
using Xunit.Abstractions;

namespace TunLB.Core.Tests.Sync;

/// <summary>Wireshark's IPVS dissector (UDP port 8848) reads our sync messages. Skips when tshark is not on PATH.</summary>
public class SyncTsharkTests(ITestOutputHelper output)
{
    [Fact]
    public void Tshark_reads_the_header_and_every_field_of_our_records()
    {
        var tshark = TsharkTests.FindTshark();
        if (tshark is null) { output.WriteLine("SKIPPED: tshark not on PATH"); return; }
        var b = new SyncMessageBuilder(Encoding.UTF8.GetBytes("0123456789abcdef-key"), 5);
        b.TryAdd(SyncRecord.From(new FlowKey(IpAddress.Parse("198.51.100.10"), IpAddress.Parse("203.0.113.10"), 40000, 80, IpProtocol.Tcp),
            ConnState.Established, IpAddress.Parse("192.0.2.21"), 80, 900));
        b.TryAdd(SyncRecord.From(new FlowKey(IpAddress.Parse("2001:db8::10"), IpAddress.Parse("2001:db8:1::80"), 5353, 53, IpProtocol.Udp),
            ConnState.Udp, IpAddress.Parse("2001:db8:2::21"), 53, 300));
        var msg = b.Seal().ToArray();
        var p = TestPackets.Udp("192.0.2.2", SyncCodec.DefaultPort, "192.0.2.3", SyncCodec.DefaultPort, payload: msg.Length);
        msg.CopyTo(p, 28);
        p[26] = p[27] = 0; // no UDP checksum
        var pcap = Path.Combine(Path.GetTempPath(), $"tunlb-sync-{Environment.ProcessId}.pcap");
        try
        {
            TsharkTests.WritePcap(pcap, [p]);
            var text = TsharkTests.RunTshark(tshark, pcap);
            output.WriteLine(text);
            Assert.Contains("IP Virtual Services Sync Daemon", text);
            foreach (var want in new[]
                     {
                         "Synchronization ID: 5", "Connection Count: 2", "Version: 1",
                         "Client Address: 198.51.100.10", "Virtual Address: 203.0.113.10", "Destination Address: 192.0.2.21",
                         "Client Port: 40000", "Virtual Port: 80", "Timeout: 900",
                         "Client Address: 2001:db8::10", "Virtual Address: 2001:db8:1::80", "Destination Address: 2001:db8:2::21",
                         "Client Port: 5353", "Timeout: 300",
                     })
                Assert.Contains(want, text);
            Assert.DoesNotMatch(TsharkTests.Problem, text);
        }
        finally { File.Delete(pcap); }
    }
}
