using System.CommandLine;
using TunLB.Control.Configuration;
using TunLB.RealServer;

namespace TunLB.Cli.Commands;

internal static class RealServerCommand
{
    public static Command Create()
    {
        var config = new Option<FileInfo>("--config", "-c") { Description = "Real-server config file (TOML)", Required = true };
        var kernel = new Option<bool>("--print-kernel-setup") { Description = "Print the equivalent kernel IPIP setup (tunl0, VIPs, arp_ignore/arp_announce, rp_filter) and exit" };
        var cmd = new Command("realserver", "Run the real-server agent in the foreground: decapsulate IPIP from the directors in userspace.");
        var check = new Option<bool>("--check", "-t") { Description = "Check the config file (every error with file:line:key) and exit: 0 = it would start, 1 = it would not. Touches nothing on the host." };
        cmd.Options.Add(config);
        cmd.Options.Add(kernel);
        cmd.Options.Add(check);
        cmd.SetAction(pr => pr.GetValue(check) ? ConfigCheck.RealServer(pr.GetValue(config)!) : Run(pr.GetValue(config)!, pr.GetValue(kernel)));
        return cmd;
    }

    private static int Run(FileInfo file, bool printKernel)
    {
        RealServerConfig cfg;
        try { cfg = ConfigLoader.LoadRealServer(file.FullName); }
        catch (ConfigException e) { Console.Error.WriteLine(e.Message); return 2; }

        if (printKernel)
        {
            Console.Write(KernelSetup.Render(cfg));
            return 0;
        }

        Foreground.Register(); // before anything starts: a stop signal during start-up stops cleanly
        using var sd = new TunLB.Linux.Systemd.SdNotify();
        RealServerAgent agent;
        try
        {
            agent = new RealServerAgent(cfg, Console.Out);
            var what = agent.Start();
            Console.WriteLine($"tunlb realserver: ready: {what}");
            sd.Ready($"decapsulating for {cfg.Vips.Count} VIP(s)");
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"tunlb realserver: cannot start: {e.Message}");
            return 1;
        }
        var sig = Foreground.WaitForStopSignal();
        sd.Stopping();
        var summary = agent.Summary();
        agent.Dispose();
        Console.WriteLine($"tunlb realserver: stopped on {sig}: {summary}; host setup removed");
        return 0;
    }
}
