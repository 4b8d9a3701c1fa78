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
            var sw = System.Diagnostics.Stopwatch.StartNew();
            Assert.Equal(-1, rx.ReceiveMany(batch, 5000));
            // Woken by the close (shutdown), not by the end of its 5 s wait.
            Assert.True(sw.ElapsedMilliseconds < 2500, $"returned after {sw.ElapsedMilliseconds} ms");
            closer.Wait();
            Assert.Equal(-1, rx.ReceiveMany(batch, 10));
        });
    }

    [Fact]
    public void A_raw_socket_blocked_in_ReceiveMany_wakes_for_a_datagram_and_for_Dispose()
    {
        using var ns = new TestNetns();
        ns.Run(() =>
        {
            ns.Exec("link", "set", "lo", "up");
            var rx = RawIpSocket.OpenReceiver(TunLB.Core.Packets.IpProtocol.IpIp);
            using var batch = new DatagramBatch(capacity: 4, slotSize: 2048);
            // One system call waits for the first datagram: it returns when a tunnel packet arrives, long before 5 s.
            using var tx = RawIpSocket.OpenSender();
            var sender = Task.Run(async () =>
            {
                await Task.Delay(200);
                var p = new byte[40];
                p[0] = 0x45; p[2] = 0; p[3] = 40; p[8] = 64; p[9] = TunLB.Core.Packets.IpProtocol.IpIp;
                p[12] = 127; p[15] = 1; p[16] = 127; p[19] = 1;
                p[20] = 0x45; p[23] = 20; p[28] = 64; p[29] = 17;
                tx.Send(p, IpAddress.Parse("127.0.0.1"));
            });
            var sw = System.Diagnostics.Stopwatch.StartNew();
            Assert.Equal(1, rx.ReceiveMany(batch, 5000));
            Assert.True(sw.ElapsedMilliseconds < 2500, $"returned after {sw.ElapsedMilliseconds} ms");
            Assert.Equal(40, batch[0].Length);
            sender.Wait();
            // Nothing queued: the timeout ends the wait with 0.
            sw.Restart();
            Assert.Equal(0, rx.ReceiveMany(batch, 150));
            Assert.InRange(sw.ElapsedMilliseconds, 100, 2500);
            // Dispose from another thread ends a long wait at once, with -1.
            var closer = Task.Run(async () => { await Task.Delay(100); rx.Dispose(); });
            sw.Restart();
            Assert.Equal(-1, rx.ReceiveMany(batch, 5000));
            Assert.True(sw.ElapsedMilliseconds < 2500, $"returned after {sw.ElapsedMilliseconds} ms");
            closer.Wait();
        });
    }
}
