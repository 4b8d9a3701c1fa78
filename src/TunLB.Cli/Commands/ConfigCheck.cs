using TunLB.Control.Configuration;
using TunLB.Director.Api;
using TunLB.Director.Management;

namespace TunLB.Cli.Commands;

/// <summary>
/// <c>--check</c> of <c>tunlb director</c> and <c>tunlb realserver</c> (as <c>nginx -t</c>, <c>haproxy -c</c>,
/// <c>keepalived -t</c>): everything the daemon validates before it touches the host, and nothing on the host.
/// Every error is printed with file:line:key; exit 0 when the file would start, 1 when it would not.
/// </summary>
internal static class ConfigCheck
{
    public static int Director(FileInfo file)
    {
        DirectorConfig cfg;
        try { cfg = ConfigLoader.LoadDirector(file.FullName); }
        catch (ConfigException e) { return Refused("director", file, e); }
        if (ApiServer.CheckListen(cfg.Director, out _) is { } refusal)
        {
            Console.Error.WriteLine($"{file.FullName}: api: {refusal}");
            Console.Error.WriteLine($"tunlb director: {file.FullName}: check failed (1 error)");
            return 1;
        }
        try
        {
            // The model the daemon would publish: schedulers, health, quorum and sorry servers, built without routes.
            var state = new DirectorState(cfg, new DirectorStateOptions { WorkerTimeout = TimeSpan.FromSeconds(1), RunHook = (_, _) => { } });
            int reals = state.View.Services.Sum(s => s.Reals.Count);
            Console.WriteLine($"tunlb director: {file.FullName}: ok: {state.View.Services.Count} service(s), {reals} real server(s), " +
                              $"{state.CheckedReals().Count} health-checked, io {cfg.Director.Io.ConfigName()}, api {cfg.Director.Api}" +
                              (cfg.Director.ApiToken.Length > 0 ? " (bearer token)" : "") +
                              (cfg.Sync.Enabled ? $", sync with {cfg.Sync.Peers.Count} peer(s) on port {cfg.Sync.Port}" : ""));
            return 0;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            Console.Error.WriteLine($"{file.FullName}: {e.Message}");
            Console.Error.WriteLine($"tunlb director: {file.FullName}: check failed (1 error)");
            return 1;
        }
    }

    /// <summary>
    /// Every error the director's loader, API listener check and model would report for <paramref name="text"/> (empty:
    /// it would start). Shared with <c>tunlb import keepalived</c>, whose output must pass exactly this check.
    /// </summary>
    public static IReadOnlyList<string> DirectorErrors(string text, string name)
    {
        DirectorConfig cfg;
        try { cfg = ConfigLoader.ParseDirector(text, name); }
        catch (ConfigException e) { return e.Errors.Select(x => x.ToString()).ToList(); }
        if (ApiServer.CheckListen(cfg.Director, out _) is { } refusal) return [$"{name}: api: {refusal}"];
        try
        {
            _ = new DirectorState(cfg, new DirectorStateOptions { WorkerTimeout = TimeSpan.FromSeconds(1), RunHook = (_, _) => { } });
            return [];
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            return [$"{name}: {e.Message}"];
        }
    }

    public static int RealServer(FileInfo file)
    {
        RealServerConfig cfg;
        try { cfg = ConfigLoader.LoadRealServer(file.FullName); }
        catch (ConfigException e) { return Refused("realserver", file, e); }
        Console.WriteLine($"tunlb realserver: {file.FullName}: ok: {cfg.Vips.Count} VIP(s), {cfg.Directors.Count} director(s)");
        return 0;
    }

    private static int Refused(string daemon, FileInfo file, ConfigException e)
    {
        foreach (var error in e.Errors) Console.Error.WriteLine(error);
        Console.Error.WriteLine($"tunlb {daemon}: {file.FullName}: check failed ({e.Errors.Count} error{(e.Errors.Count == 1 ? "" : "s")})");
        return 1;
    }
}
