using System.Diagnostics;

namespace TunLB.Director.Health;

/// <summary>Starts a keepalived-style notify command (quorum_up, quorum_down) with /bin/sh -c and does not wait for it.</summary>
internal static class HookRunner
{
    public static void Run(string command, string what)
    {
        try
        {
            var psi = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
            psi.ArgumentList.Add("-c");
            psi.ArgumentList.Add(command);
            using var p = Process.Start(psi);
        }
        catch (Exception e) { Console.Error.WriteLine($"tunlb director: health: cannot run {what} \"{command}\": {e.Message}"); }
    }
}
