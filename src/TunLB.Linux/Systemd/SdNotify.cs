using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace TunLB.Linux.Systemd;

/// <summary>
/// sd_notify(3) without libsystemd: sends "KEY=VALUE" lines in one datagram to the AF_UNIX socket named by
/// $NOTIFY_SOCKET (a path, or an abstract-namespace name when it starts with '@'). Without $NOTIFY_SOCKET
/// (not started by systemd with Type=notify) every call is a no-op. Thread-safe; never throws on send
/// failures (systemd may have gone away), it returns false instead.
/// </summary>
public sealed class SdNotify : IDisposable
{
    private readonly object _gate = new();
    private readonly Socket? _socket;
    private readonly UnixDomainSocketEndPoint? _endPoint;

    /// <param name="notifySocket">The socket address; null reads $NOTIFY_SOCKET.</param>
    /// <param name="watchdogUsec">The watchdog interval in microseconds; null reads $WATCHDOG_USEC (checked against $WATCHDOG_PID).</param>
    public SdNotify(string? notifySocket = null, long? watchdogUsec = null)
    {
        notifySocket ??= Environment.GetEnvironmentVariable("NOTIFY_SOCKET");
        if (!string.IsNullOrEmpty(notifySocket))
        {
            // A leading '@' names the abstract namespace: the address starts with a NUL byte.
            string path = notifySocket[0] == '@' ? "\0" + notifySocket[1..] : notifySocket;
            _endPoint = new UnixDomainSocketEndPoint(path);
            _socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        }
        WatchdogUsec = watchdogUsec ?? ReadWatchdogUsec();
    }

    /// <summary>True when $NOTIFY_SOCKET was set (messages are really sent).</summary>
    public bool Enabled => _socket is not null;

    /// <summary>The watchdog interval systemd expects (WatchdogSec=) in microseconds, or 0 when there is none.</summary>
    public long WatchdogUsec { get; }

    /// <summary>How often to send WATCHDOG=1: half the interval, as sd_watchdog_enabled(3) recommends; null without a watchdog.</summary>
    public TimeSpan? WatchdogPeriod => WatchdogUsec > 0 ? TimeSpan.FromMicroseconds(WatchdogUsec / 2.0) : null;

    private static long ReadWatchdogUsec()
    {
        var usec = Environment.GetEnvironmentVariable("WATCHDOG_USEC");
        if (!long.TryParse(usec, NumberStyles.None, CultureInfo.InvariantCulture, out long v) || v <= 0) return 0;
        var pid = Environment.GetEnvironmentVariable("WATCHDOG_PID");
        if (!string.IsNullOrEmpty(pid) && pid != Environment.ProcessId.ToString(CultureInfo.InvariantCulture)) return 0;
        return v;
    }

    /// <summary>Sends <paramref name="state"/> (newline-separated assignments). Returns false when disabled or sending failed.</summary>
    public bool Notify(string state)
    {
        if (_socket is null) return false;
        var bytes = Encoding.UTF8.GetBytes(state);
        lock (_gate)
        {
            try
            {
                return _socket.SendTo(bytes, SocketFlags.None, _endPoint!) == bytes.Length;
            }
            catch (SocketException) { return false; }
            catch (ObjectDisposedException) { return false; }
        }
    }

    public bool Ready(string? status = null) => Notify(status is null ? "READY=1" : $"READY=1\nSTATUS={status}");
    public bool Stopping() => Notify("STOPPING=1");
    public bool Watchdog() => Notify("WATCHDOG=1");
    public bool Status(string status) => Notify($"STATUS={status}");

    /// <summary>RELOADING=1 with MONOTONIC_USEC (CLOCK_MONOTONIC now), as Type=notify-reload requires.</summary>
    public bool Reloading() =>
        Notify($"RELOADING=1\nMONOTONIC_USEC={MonotonicUsec().ToString(CultureInfo.InvariantCulture)}");

    /// <summary>CLOCK_MONOTONIC in microseconds (Stopwatch uses it on Linux).</summary>
    public static long MonotonicUsec() =>
        (long)((Int128)System.Diagnostics.Stopwatch.GetTimestamp() * 1_000_000 / System.Diagnostics.Stopwatch.Frequency);

    public void Dispose()
    {
        lock (_gate) _socket?.Dispose();
    }
}
