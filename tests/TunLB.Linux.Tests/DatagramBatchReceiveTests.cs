using System.Net;
using System.Net.Sockets;
using TunLB.Core.Flows;

namespace TunLB.Linux.Tests;

/// <summary>recvmmsg(2) through <see cref="UdpSocket.ReceiveMany"/> on loopback inside a test namespace.</summary>
public sealed class DatagramBatchReceiveTests
{
    private const ushort Port = 46080;

    [Fact]
    public void ReceiveMany_takes_every_queued_datagram_in_one_call_with_its_sender()
    {
        using var ns = new TestNetns();
        ns.Run(() =>
        {
            using var rx = UdpSocket.Bind(Port);
            using var tx = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            tx.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            for (byte i = 1; i <= 5; i++) tx.SendTo(new byte[] { i, i, i }, new IPEndPoint(IPAddress.Loopback, Port));
            using var batch = new DatagramBatch(capacity: 4, slotSize: 2048);

            Assert.Equal(4, rx.ReceiveMany(batch, 1000));   // capacity-bound
            Assert.True(batch.WasFull);
            for (int i = 0; i < 4; i++)
            {
                Assert.Equal(new byte[] { (byte)(i + 1), (byte)(i + 1), (byte)(i + 1) }, batch[i].ToArray());
                Assert.Equal(IpAddress.Parse("127.0.0.1"), batch.Source(i));
            }
            Assert.Equal(1, rx.ReceiveMany(batch, 1000));   // the rest
            Assert.Equal(new byte[] { 5, 5, 5 }, batch[0].ToArray());
            Assert.Equal(0, rx.ReceiveMany(batch, 50));     // nothing queued: timeout
            Assert.Equal(0, batch.Count);
        });
    }

    [Fact]
    public void ReceiveMany_returns_minus_one_when_disposed_from_another_thread()
    {
        using var ns = new TestNetns();
        ns.Run(() =>
        {
            var rx = UdpSocket.Bind(Port);
            using var batch = new DatagramBatch(capacity: 2, slotSize: 2048);
            var closer = Task.Run(async () => { await Task.Delay(100); rx.Dispose(); });
            Assert.Equal(-1, rx.ReceiveMany(batch, 5000));
            closer.Wait();
            Assert.Equal(-1, rx.ReceiveMany(batch, 10));
        });
    }
}
