// Receives VIP packets on one device for a fixed window and prints packets/s: `xdp` (XdpVipRedirector + one XskSocket on
// queue 0) or `afpacket` (one AfPacketRing with the director's capture filter). Run inside the receiving namespace by
// bench/xdp-rx/run, which starts the sender. The window starts at the first packet.
using System.Diagnostics;
using TunLB.Core.Capture;
using TunLB.Core.Flows;
using TunLB.Linux;
using TunLB.Linux.Xdp;

string mode = args[0], dev = args[1];
double seconds = double.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture);
var vip = IpAddress.Parse(args[3]);
int ifindex = int.Parse(File.ReadAllText($"/sys/class/net/{dev}/ifindex").Trim());

XdpVipRedirector? xdp = null;
XskSocket? xsk = null;
AfPacketRing? ring = null;
if (mode == "xdp")
{
    xdp = XdpVipRedirector.Attach(ifindex, queueCount: 1);
    xdp.AddVip(vip);
    xsk = XskSocket.Open(ifindex, 0, xdp);
}
else ring = AfPacketRing.Open(CaptureBpf.Build([vip], 0, []), ifindex);
Func<Span<byte>, int, int> receive = xsk is not null ? xsk.Receive : ring!.Receive;
Console.WriteLine($"ready {(xsk is not null ? xsk.Name + "; " + xdp : ring!.Name)}");

var buffer = new byte[65536];
long count = 0;
while (receive(buffer, 10_000) <= 0) { }
var sw = Stopwatch.StartNew();
var before = xsk?.ReadKernelStatistics() ?? default;
ring?.ReadKernelStatistics(); // reset
long window = (long)(seconds * Stopwatch.Frequency);
while (sw.ElapsedTicks < window)
{
    int n = receive(buffer, 100);
    if (n > 0) count++;
    else if (n < 0) break;
}
double elapsed = sw.Elapsed.TotalSeconds;
string drops = xsk is not null
    ? $"kernel: rx_ring_full {xsk.ReadKernelStatistics().RxRingFull - before.RxRingFull}, rx_dropped {xsk.ReadKernelStatistics().RxDropped - before.RxDropped}, fill_ring_empty {xsk.ReadKernelStatistics().RxFillRingEmpty - before.RxFillRingEmpty}"
    : $"kernel: ring drops {ring!.ReadKernelStatistics().Drops}";
Console.WriteLine($"{mode,-8} {count / elapsed,12:N0} packets/s received ({count:N0} in {elapsed:F2} s; {drops})");
xsk?.Dispose(); xdp?.Dispose(); ring?.Dispose();
