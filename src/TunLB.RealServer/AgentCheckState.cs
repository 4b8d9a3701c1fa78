namespace TunLB.RealServer;

/// <summary>
/// The real server's own view of whether it should take traffic, kept in a small state file so that
/// `tunlb realserver drain|maint|ready` (another process) and the agent-check server agree:
/// one line, "ready", "drain", "maint" or "down", optionally followed by a weight ("ready 50%").
/// A missing file means "ready".
/// </summary>
public static class AgentCheckState
{
    public static readonly IReadOnlyList<string> States = ["ready", "drain", "maint", "down"];

    /// <summary>The state and optional weight word from the file; ("ready", "") when absent or unreadable.</summary>
    public static (string State, string Weight) Read(string path)
    {
        string text;
        try { text = File.ReadAllText(path); }
        catch (IOException) { return ("ready", ""); }
        catch (UnauthorizedAccessException) { return ("ready", ""); }
        var words = text.Split([' ', '\t', '\n', '\r', ','], StringSplitOptions.RemoveEmptyEntries);
        var state = words.Length > 0 && States.Contains(words[0].ToLowerInvariant()) ? words[0].ToLowerInvariant() : "ready";
        var weight = words.Skip(1).FirstOrDefault(w => w.EndsWith('%') && int.TryParse(w[..^1], out var p) && p >= 0) ?? "";
        return (state, weight);
    }

    /// <summary>Writes the state atomically (temporary file + rename), creating the directory.</summary>
    public static void Write(string path, string state, string weight = "")
    {
        if (!States.Contains(state)) throw new ArgumentException($"unknown state \"{state}\"; known: {string.Join(" ", States)}", nameof(state));
        var dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(dir);
        var tmp = Path.Combine(dir, $".{Path.GetFileName(path)}.{Environment.ProcessId}.tmp");
        File.WriteAllText(tmp, weight.Length > 0 ? $"{state} {weight}\n" : state + "\n");
        File.Move(tmp, path, overwrite: true);
    }

    /// <summary>The agent-check reply (HAProxy agent protocol) for a state: "up ready", "up drain", "maint", "down".</summary>
    public static string Reply(string state, string weight)
    {
        var w = weight.Length > 0 ? " " + weight : "";
        return state switch
        {
            "drain" => "up drain" + w,
            "maint" => "maint",
            "down" => "down",
            _ => "up ready" + w,
        } + "\n";
    }
}
