using System.CommandLine;
using TunLB.Control.Configuration;
using TunLB.Director;

namespace TunLB.Cli.Commands;

internal static class DirectorCommand
{
    public static Command Create()
    {
        var config = new Option<FileInfo>("--config", "-c") { Description = "Director config file (TOML)", Required = true };
        var cmd = new Command("director", "Run the director in the foreground: capture VIP traffic and forward it in IPIP to real servers.");
        cmd.Options.Add(config);
        cmd.SetAction(pr => Run(pr.GetValue(config)!));
        return cmd;
    }

    private static int Run(FileInfo file)
    {
        DirectorConfig cfg;
        try { cfg = ConfigLoader.LoadDirector(file.FullName); }
        catch (ConfigException e) { Console.Error.WriteLine(e.Message); return 2; }

        DirectorRuntime rt;
        try
        {
            rt = new DirectorRuntime(cfg, Console.Out);
            var what = rt.Start();
            Console.WriteLine($"tunlb director: ready: {what}");
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"tunlb director: cannot start: {e.Message}");
            return 1;
        }
        var sig = Foreground.WaitForStopSignal();
        var summary = rt.Summary();
        rt.Dispose();
        Console.WriteLine($"tunlb director: stopped on {sig}: {summary}; host setup removed");
        return 0;
    }
}
