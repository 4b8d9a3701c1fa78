namespace TunLB.EndToEnd.Tests;

/// <summary>Locates the built tunlb CLI the way a user would run it.</summary>
internal static class Tunlb
{
    public static string RepoRoot()
    {
        var d = new DirectoryInfo(AppContext.BaseDirectory);
        while (d != null && !File.Exists(Path.Combine(d.FullName, "TunLB.sln"))) d = d.Parent;
        return d?.FullName ?? throw new InvalidOperationException("cannot find the repository root (TunLB.sln)");
    }

    /// <summary>The tunlb executable: $TUNLB_BIN, else the newest build of src/TunLB.Cli.</summary>
    public static string[] Command()
    {
        var env = Environment.GetEnvironmentVariable("TUNLB_BIN");
        if (!string.IsNullOrEmpty(env)) return [env];
        var root = RepoRoot();
        var candidates = new[] { "Release", "Debug" }
            .Select(c => Path.Combine(root, "src", "TunLB.Cli", "bin", c, "net10.0", "tunlb"))
            .Where(File.Exists)
            .OrderByDescending(File.GetLastWriteTimeUtc)
            .ToList();
        if (candidates.Count == 0) throw new InvalidOperationException("tunlb is not built; run `dotnet build TunLB.sln -c Release`");
        return [candidates[0]];
    }

    public static bool IsRoot => Environment.UserName == "root";

    /// <summary>
    /// Deletes the host journal a SIGKILLed daemon left ($TUNLB_RUN_DIR or /run/tunlb, "Pid":N inside): a restart in
    /// the same namespace would undo and delete it, but a test that kills and then deletes the namespace must do so.
    /// </summary>
    public static void ForgetJournal(int pid)
    {
        var dir = TunLB.Linux.HostJournal.Directory;
        if (!Directory.Exists(dir)) return;
        foreach (var f in Directory.GetFiles(dir, "*.json"))
            try { if (File.ReadAllText(f).Contains($"\"Pid\":{pid},", StringComparison.Ordinal)) File.Delete(f); }
            catch (IOException) { }
    }
}
