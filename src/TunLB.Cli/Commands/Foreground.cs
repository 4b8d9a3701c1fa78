using System.Runtime.InteropServices;

namespace TunLB.Cli.Commands;

/// <summary>Blocks a foreground daemon until SIGINT or SIGTERM; optionally runs a reload on each SIGHUP.</summary>
/// <remarks>
/// The signal registrations and the events they set live as long as the process: a handler runs on the runtime's
/// signal thread and can still be running, or be started by a second signal, while the daemon shuts down. Disposing
/// them at return let a late <c>Set</c> throw <see cref="ObjectDisposedException"/> on that thread (the process
/// aborted without removing its host setup), and let a second SIGTERM take the default action and kill the process
/// mid-cleanup. Now a signal after the first stop is cancelled and ignored.
/// </remarks>
internal static class Foreground
{
    private static readonly ManualResetEvent s_stop = new(false);
    private static readonly AutoResetEvent s_hup = new(false);
    private static readonly object s_gate = new();
    private static List<PosixSignalRegistration>? s_registrations;
    private static string s_which = "";
    private static readonly ManualResetEvent s_again = new(false);
    private static string s_againWhich = "";

    public static string WaitForStopSignal() => Run(null);

    /// <summary>
    /// After the first stop signal: waits up to <paramref name="timeout"/> for another SIGINT or SIGTERM (a graceful stop
    /// cut short); returns its name, or null when none came.
    /// </summary>
    public static string? WaitForStopSignal(TimeSpan timeout)
    {
        Register();
        if (!s_again.WaitOne(timeout)) return null;
        lock (s_gate) return s_againWhich;
    }

    /// <summary>
    /// Waits for SIGINT or SIGTERM and returns its name. Each SIGHUP runs <paramref name="onHangup"/> on this
    /// thread (one at a time; signals arriving meanwhile coalesce into one more run). Without a callback SIGHUP
    /// is ignored rather than killing the process. An exception from the callback is reported, never fatal.
    /// </summary>
    public static string Run(Action? onHangup)
    {
        Register();
        var handles = new WaitHandle[] { s_stop, s_hup };
        while (WaitHandle.WaitAny(handles) == 1)
        {
            try { onHangup?.Invoke(); }
            catch (Exception e) { Console.Error.WriteLine($"reload failed: {e.Message}"); }
        }
        lock (s_gate) return s_which;
    }

    /// <summary>Takes over SIGINT, SIGTERM and SIGHUP now: call before the daemon starts, so a stop signal that comes
    /// during start-up (right after READY=1) stops it cleanly instead of killing it.</summary>
    public static void Register()
    {
        lock (s_gate)
        {
            if (s_registrations is not null) return;
            s_registrations =
            [
                PosixSignalRegistration.Create(PosixSignal.SIGINT, OnStop),
                PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnStop),
                PosixSignalRegistration.Create(PosixSignal.SIGHUP, ctx => { ctx.Cancel = true; s_hup.Set(); }),
            ];
        }
    }

    private static void OnStop(PosixSignalContext ctx)
    {
        ctx.Cancel = true; // the daemon stops by itself, removing what it set up
        lock (s_gate)
        {
            if (s_which.Length > 0)
            {
                // A second stop signal while stopping: it may cut a graceful stop short (WaitForStopSignal(timeout)),
                // and is otherwise harmless.
                if (s_againWhich.Length == 0) { s_againWhich = ctx.Signal.ToString(); s_again.Set(); }
                return;
            }
            s_which = ctx.Signal.ToString();
        }
        s_stop.Set();
    }
}
