using System.CommandLine;
using TunLB.Control.Configuration;
using TunLB.RealServer;

namespace TunLB.Cli.Commands;

/// <summary>
/// `tunlb realserver drain | maint | ready | agent-state`: set (or show) the state the real server's
/// agent-check server announces to the directors (HAProxy agent protocol). drain = no new connections,
/// existing ones go on; maint = maintenance (same effect, reported as maint); ready = back to normal.
/// </summary>
public static class RealServerDrainCommands
{
    /// <summary>The subcommands to add under `tunlb realserver`.</summary>
    public static IReadOnlyList<Command> Create() =>
    [
        StateCommand("drain", "Tell the directors (through the agent check) to send no new connections here; existing ones go on."),
        StateCommand("maint", "Announce maintenance through the agent check (no new connections; existing ones go on)."),
        StateCommand("ready", "Announce that this real server takes connections again (undo drain / maint)."),
        ShowCommand(),
    ];

    private static Option<FileInfo> ConfigOption() =>
        new("--config", "-c") { Description = $"Real-server config file (for agent_state_file); default state file {RealServerConfig.DefaultAgentStateFile}" };

    private static Command StateCommand(string state, string description)
    {
        var config = ConfigOption();
        var weight = new Option<string?>("--weight") { Description = "Also announce a weight as a percentage of the configured one, e.g. 50%" };
        var cmd = new Command(state, description);
        cmd.Options.Add(config);
        if (state == "ready") cmd.Options.Add(weight);
        cmd.SetAction(pr =>
        {
            if (StateFile(pr.GetValue(config)) is not { } path) return 2;
            var w = state == "ready" ? pr.GetValue(weight) ?? "" : "";
            if (w.Length > 0 && !(w.EndsWith('%') && int.TryParse(w[..^1], out var p) && p >= 0))
            {
                Console.Error.WriteLine($"tunlb realserver {state}: --weight \"{w}\" is not a percentage like 50%");
                return 2;
            }
            try { AgentCheckState.Write(path, state, w); }
            catch (Exception e) { Console.Error.WriteLine($"tunlb realserver {state}: cannot write {path}: {e.Message}"); return 1; }
            Console.WriteLine($"tunlb realserver: agent state {state}{(w.Length > 0 ? " " + w : "")} ({path}); directors with an agent check see it at their next check");
            return 0;
        });
        return cmd;
    }

    private static Command ShowCommand()
    {
        var config = ConfigOption();
        var cmd = new Command("agent-state", "Show the state the agent-check server announces.");
        cmd.Options.Add(config);
        cmd.SetAction(pr =>
        {
            if (StateFile(pr.GetValue(config)) is not { } path) return 2;
            var (state, weight) = AgentCheckState.Read(path);
            Console.Write($"{state}{(weight.Length > 0 ? " " + weight : "")} (agent reply: {AgentCheckState.Reply(state, weight).Trim()}; {path})\n");
            return 0;
        });
        return cmd;
    }

    private static string? StateFile(FileInfo? config)
    {
        if (config is null) return RealServerConfig.DefaultAgentStateFile;
        try { return ConfigLoader.LoadRealServer(config.FullName).AgentStateFile; }
        catch (ConfigException e) { Console.Error.WriteLine(e.Message); return null; }
    }
}
