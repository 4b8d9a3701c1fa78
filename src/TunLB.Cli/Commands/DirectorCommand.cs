using TunLB.Director.Api;
using System.CommandLine;
using TunLB.Control.Configuration;
using TunLB.Director;
using TunLB.Director.Management;
using TunLB.Linux.Systemd;

namespace TunLB.Cli.Commands;

internal static class DirectorCommand
{
    public static Command Create()
    {
        var config = new Option<FileInfo>("--config", "-c") { Description = "Director config file (TOML)", Required = true };
        var cmd = new Command("director", "Run the director in the foreground: capture VIP traffic and forward it in IPIP to real servers. " +
                                          "SIGHUP (or POST /api/v1/reload) reloads the config file; SIGINT/SIGTERM stop and remove the host setup " +
                                          "(with announce = true: after withdrawing the VIPs and forwarding for withdraw_grace seconds).");
        var check = new Option<bool>("--check", "-t") { Description = "Check the config file (every error with file:line:key) and exit: 0 = it would start, 1 = it would not. Touches nothing on the host." };
        cmd.Options.Add(config);
        cmd.Options.Add(check);
        cmd.SetAction(pr => pr.GetValue(check) ? ConfigCheck.Director(pr.GetValue(config)!) : Run(pr.GetValue(config)!));
        return cmd;
    }

    private static int Run(FileInfo file)
    {
        DirectorConfig cfg;
        try { cfg = ConfigLoader.LoadDirector(file.FullName); }
        catch (ConfigException e) { Console.Error.WriteLine(e.Message); return 2; }

        // Refuse an API reachable from the network without a token, before anything touches the host.
        if (ApiServer.CheckListen(cfg.Director, out _) is { } refusal)
        {
            Console.Error.WriteLine($"tunlb director: refusing to start: {refusal}");
            return 2;
        }

        Foreground.Register(); // before anything starts: a stop signal during start-up stops cleanly
        using var sd = new SdNotify();
        DirectorRuntime rt;
        try
        {
            rt = new DirectorRuntime(cfg, Console.Out, Console.Error);
            var what = rt.Start();
            Console.WriteLine($"tunlb director: ready: {what}");
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"tunlb director: cannot start: {e.Message}");
            return 1;
        }

        rt.State.ReloadStarting = () => sd.Reloading();
        rt.State.ReloadFinished = () => sd.Ready();
        sd.Ready($"{rt.Services.Count} service(s)");

        // WATCHDOG=1 every WatchdogSec/2, only while the worker thread is alive and making progress.
        Timer? watchdog = null;
        if (sd.WatchdogPeriod is { } period)
        {
            long last = -1;
            watchdog = new Timer(_ =>
            {
                long beat = rt.Heartbeat;
                if (rt.WorkerAlive && beat != last) sd.Watchdog();
                last = beat;
            }, null, TimeSpan.Zero, period);
        }

        var sig = Foreground.Run(() => rt.State.Reload()); // a bad file is logged and changes nothing
        sd.Stopping();
        rt.State.RecordEvent(TunLB.Director.Management.EventKinds.Director, null, null, $"stopping on {sig}");
        GracefulWithdraw(rt, cfg.Director.WithdrawGrace);
        watchdog?.Dispose();
        var summary = rt.Summary();
        rt.Dispose();
        Console.WriteLine($"tunlb director: stopped on {sig}: {summary}; host setup removed");
        return 0;
    }

    /// <summary>
    /// announce = true: withdraw every VIP, then keep forwarding for withdraw_grace seconds while the routers move the
    /// traffic to other directors (a second SIGINT/SIGTERM cuts the wait short).
    /// </summary>
    private static void GracefulWithdraw(DirectorRuntime rt, int graceSeconds)
    {
        if (!rt.State.Settings.Announce) return;
        int n = rt.Withdraw();
        Console.WriteLine($"tunlb director: withdrew {n} VIP(s); forwarding for {graceSeconds} s (withdraw_grace) while routers move traffic away");
        if (graceSeconds > 0 && Foreground.WaitForStopSignal(TimeSpan.FromSeconds(graceSeconds)) is { } again)
            Console.WriteLine($"tunlb director: {again} during withdraw_grace: stopping now");
    }
}
