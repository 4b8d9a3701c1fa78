namespace TunLB.Linux;

/// <summary>Runs nft(8) scripts (control plane only). Throws <see cref="HostNetworkException"/> with nft's message on failure.</summary>
public static class Nftables
{
    /// <summary>Runs <paramref name="script"/> with `nft -f -` (one atomic transaction); returns stdout.</summary>
    public static string Run(string script) => ExternalTool.RunChecked("nft", ["-f", "-"], script);

    /// <summary>Runs `nft args...`; returns stdout.</summary>
    public static string Command(params string[] args) => ExternalTool.RunChecked("nft", args);

    /// <summary>
    /// Deletes inet tables named <paramref name="prefix"/> + PID left by processes that died without cleaning up (their
    /// process id no longer exists). Failures are logged.
    /// </summary>
    public static void RemoveStaleTables(string prefix, Action<string>? logError)
    {
        try
        {
            foreach (var line in Command("list", "tables", "inet").Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                var name = line.Trim().Split(' ').LastOrDefault() ?? "";
                if (!name.StartsWith(prefix, StringComparison.Ordinal)) continue;
                if (!int.TryParse(name.AsSpan(prefix.Length), out int pid) || pid == Environment.ProcessId) continue;
                if (Directory.Exists($"/proc/{pid}")) continue;
                Command("delete", "table", "inet", name);
                logError?.Invoke($"tunlb director: removed stale nft table inet {name} (process {pid} is gone)");
            }
        }
        catch (HostNetworkException e) { logError?.Invoke($"tunlb director: cannot list nft tables: {e.Message}"); }
    }
}
