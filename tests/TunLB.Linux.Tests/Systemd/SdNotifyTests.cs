using System.Net.Sockets;
using System.Text;
using TunLB.Linux.Systemd;

namespace TunLB.Linux.Tests.Systemd;

/// <summary>sd_notify against a real AF_UNIX datagram socket, as systemd listens.</summary>
public sealed class SdNotifyTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tunlb-sd-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, true); } catch { }
    }

    private static Socket Listen(string address)
    {
        var s = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        s.Bind(new UnixDomainSocketEndPoint(address));
        s.ReceiveTimeout = 2000;
        return s;
    }

    private static string Receive(Socket s)
    {
        var buf = new byte[4096];
        int n = s.Receive(buf);
        return Encoding.UTF8.GetString(buf, 0, n);
    }

    [Fact]
    public void SendsEachStateAsOneDatagramToAPathSocket()
    {
        var path = Path.Combine(_dir, "notify");
        using var listener = Listen(path);
        using var sd = new SdNotify(path, watchdogUsec: 10_000_000);
        Assert.True(sd.Enabled);
        Assert.Equal(TimeSpan.FromSeconds(5), sd.WatchdogPeriod);

        Assert.True(sd.Ready("2 service(s)"));
        Assert.Equal("READY=1\nSTATUS=2 service(s)", Receive(listener));
        Assert.True(sd.Reloading());
        var reloading = Receive(listener).Split('\n');
        Assert.Equal("RELOADING=1", reloading[0]);
        Assert.StartsWith("MONOTONIC_USEC=", reloading[1]);
        long usec = long.Parse(reloading[1]["MONOTONIC_USEC=".Length..]);
        // CLOCK_MONOTONIC: the same clock as /proc/uptime (plus suspend time), so within a few seconds of it.
        double uptime = double.Parse(File.ReadAllText("/proc/uptime").Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(usec / 1e6, 0, uptime + 5);
        Assert.True(sd.Ready());
        Assert.Equal("READY=1", Receive(listener));
        Assert.True(sd.Watchdog());
        Assert.Equal("WATCHDOG=1", Receive(listener));
        Assert.True(sd.Stopping());
        Assert.Equal("STOPPING=1", Receive(listener));
    }

    [Fact]
    public void AtSignMeansTheAbstractNamespace()
    {
        var name = "tunlb-test-" + Guid.NewGuid().ToString("N");
        using var listener = Listen("\0" + name);
        using var sd = new SdNotify("@" + name, watchdogUsec: 0);
        Assert.True(sd.Ready());
        Assert.Equal("READY=1", Receive(listener));
        Assert.Null(sd.WatchdogPeriod);
    }

    [Fact]
    public void WithoutNotifySocketEverythingIsANoOp()
    {
        using var sd = new SdNotify("", watchdogUsec: 0);
        Assert.False(sd.Enabled);
        Assert.False(sd.Ready());
        Assert.False(sd.Watchdog());
    }

    [Fact]
    public void AGoneListenerIsNotAnError()
    {
        var path = Path.Combine(_dir, "gone");
        using (Listen(path)) { }
        using var sd = new SdNotify(path, watchdogUsec: 0);
        Assert.False(sd.Ready()); // nobody receives: false, no exception
    }
}
