using System.Buffers.Binary;
using System.Net;
using TunLB.Core.DataPath;
using TunLB.Core.Flows;
using TunLB.Core.Packets;
using TunLB.Linux;
using TunLB.Tests.Shared;

namespace TunLB.RealServer.Tests;

/// <summary>The agent's counters as Prometheus text, rendered and served over HTTP ([realserver] metrics).</summary>
public sealed class AgentMetricsTests
{
    private static readonly IpAddress Director = IpAddress.Parse("192.0.2.1"), Stranger = IpAddress.Parse("198.51.100.66");
    private static readonly IpAddress Real = IpAddress.Parse("192.0.2.11"), Vip = IpAddress.Parse("203.0.113.10");

    private sealed class NullInjector : IPacketInjector
    {
        public bool Inject(ReadOnlySpan<byte> packet) => true;
    }

    private static byte[] Ipip(IpAddress outerSource)
    {
        var inner = new byte[40];
        inner[0] = 0x45; BinaryPrimitives.WriteUInt16BigEndian(inner.AsSpan(2), 40);
        inner[8] = 63; inner[9] = IpProtocol.Tcp;
        IpAddress.Parse("198.51.100.10").WriteV4(inner.AsSpan(12));
        Vip.WriteV4(inner.AsSpan(16));
        BinaryPrimitives.WriteUInt16BigEndian(inner.AsSpan(10), Checksum.Compute(inner.AsSpan(0, 20)));
        var buf = new byte[60];
        Assert.Equal(60, Tunnel.Encapsulate(inner, buf, outerSource, Real, EncapKind.Ipip, 0, 0, false, 64, 7, 0));
        return buf;
    }

    private static DecapWorker WorkerAfterJunk()
    {
        var w = new DecapWorker(new InMemoryDatagramReceiver(), new DecapFilter([Director], [Vip]), DecapInput.Ipv4Packet, IpProtocol.IpIp, new NullInjector());
        using var batch = new DatagramBatch(capacity: 8);
        batch.Add(Ipip(Director), Director);
        batch.Add(Ipip(Director), Director);
        batch.Add(Ipip(Stranger), Stranger);
        batch.Add([0x45, 0, 0], Director);
        w.Process(batch);
        return w;
    }

    [Fact]
    public void Every_datagram_read_is_accepted_or_dropped_by_reason()
    {
        string text = AgentMetrics.Render([("raw4/4", WorkerAfterJunk())]);
        Assert.Contains("tunlb_realserver_received_packets_total{receiver=\"raw4/4\"} 4\n", text);
        Assert.Contains("tunlb_realserver_accepted_packets_total{receiver=\"raw4/4\"} 2\n", text);
        Assert.Contains("tunlb_realserver_dropped_packets_total{receiver=\"raw4/4\",reason=\"not_from_director\"} 1\n", text);
        Assert.Contains("tunlb_realserver_dropped_packets_total{receiver=\"raw4/4\",reason=\"truncated\"} 1\n", text);
        Assert.Contains("tunlb_realserver_injected_packets_total{receiver=\"raw4/4\"} 2\n", text);
        Assert.Contains("tunlb_realserver_inject_errors_total{receiver=\"raw4/4\"} 0\n", text);
    }

    [Fact]
    public async Task The_server_answers_get_metrics_and_404_otherwise()
    {
        var w = WorkerAfterJunk();
        using var server = AgentMetricsServer.Start(IPAddress.Loopback, 0, () => AgentMetrics.Render([("raw4/4", w)]));
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var ok = await http.GetAsync($"http://127.0.0.1:{server.EndPoint.Port}/metrics");
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Contains("tunlb_realserver_accepted_packets_total{receiver=\"raw4/4\"} 2", await ok.Content.ReadAsStringAsync());
        var missing = await http.GetAsync($"http://127.0.0.1:{server.EndPoint.Port}/other");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }
}
