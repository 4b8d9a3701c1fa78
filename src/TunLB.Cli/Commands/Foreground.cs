using System.Runtime.InteropServices;

namespace TunLB.Cli.Commands;

/// <summary>Blocks a foreground daemon until SIGINT or SIGTERM; optionally runs a reload on each SIGHUP.</summary>
internal static class Foreground
{
    public static string WaitForStopSignal() => Run(null);

    /// <summary>Waits up to <paramref name="timeout"/> for SIGINT or SIGTERM; returns its name, or null when none came.</summary>
    public static string? WaitForStopSignal(TimeSpan timeout)
    {
        using var stop = new ManualResetEvent(false);
        string? which = null;
        void Stop(PosixSignalContext ctx) { ctx.Cancel = true; which = ctx.Signal.ToString(); stop.Set(); }
        using var a = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        using var b = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        return stop.WaitOne(timeout) ? which : null;
    }

    /// <summary>
    /// Waits for SIGINT or SIGTERM and returns its name. Each SIGHUP runs <paramref name="onHangup"/> on this
    /// thread (one at a time; signals arriving meanwhile coalesce into one more run). Without a callback SIGHUP
    /// is ignored rather than killing the process. An exception from the callback is reported, never fatal.
    /// </summary>
    public static string Run(Action? onHangup)
    {
        using var stop = new ManualResetEvent(false);
        using var hup = new AutoResetEvent(false);
        string which = "";
        void Stop(PosixSignalContext ctx) { ctx.Cancel = true; which = ctx.Signal.ToString(); stop.Set(); }
        using var a = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        using var b = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        using var c = PosixSignalRegistration.Create(PosixSignal.SIGHUP, ctx => { ctx.Cancel = true; hup.Set(); });
        var handles = new WaitHandle[] { stop, hup };
        while (WaitHandle.WaitAny(handles) == 1)
        {
            try { onHangup?.Invoke(); }
            catch (Exception e) { Console.Error.WriteLine($"reload failed: {e.Message}"); }
        }
        return which;
    }
}
