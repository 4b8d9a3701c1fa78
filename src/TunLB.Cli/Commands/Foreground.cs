using System.Runtime.InteropServices;

namespace TunLB.Cli.Commands;

/// <summary>Blocks a foreground daemon until SIGINT or SIGTERM.</summary>
internal static class Foreground
{
    public static string WaitForStopSignal()
    {
        using var stop = new ManualResetEventSlim();
        string which = "";
        void Handler(PosixSignalContext ctx) { ctx.Cancel = true; which = ctx.Signal.ToString(); stop.Set(); }
        using var a = PosixSignalRegistration.Create(PosixSignal.SIGINT, Handler);
        using var b = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Handler);
        stop.Wait();
        return which;
    }
}
