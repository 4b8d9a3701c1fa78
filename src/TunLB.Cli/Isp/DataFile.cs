namespace TunLB.Cli.Isp;

/// <summary>Finds a data file shipped with TunLB (data/NAME): the provider lists.</summary>
internal static class DataFile
{
    /// <summary>
    /// <paramref name="explicitPath"/>, else $<paramref name="envVar"/>, else data/<paramref name="fileName"/> next to the
    /// executable, else the first one found walking up from the executable and from the working directory (a checkout).
    /// </summary>
    public static string? Locate(string fileName, string envVar, string? explicitPath)
    {
        if (!string.IsNullOrEmpty(explicitPath)) return explicitPath;
        var env = Environment.GetEnvironmentVariable(envVar);
        if (!string.IsNullOrEmpty(env)) return env;
        foreach (var start in new[] { AppContext.BaseDirectory, Environment.CurrentDirectory })
            for (var d = new DirectoryInfo(start); d != null; d = d.Parent)
            {
                var p = Path.Combine(d.FullName, "data", fileName);
                if (File.Exists(p)) return p;
            }
        return null;
    }
}
