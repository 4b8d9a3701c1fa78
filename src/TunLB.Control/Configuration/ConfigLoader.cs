namespace TunLB.Control.Configuration;

/// <summary>
/// Loads and validates TunLB's TOML configuration files. Every problem in a file is collected
/// and reported together in one <see cref="ConfigException"/>; nothing is returned from a file
/// with any error. Pure: reads the file, opens no sockets, logs nothing.
/// </summary>
public static partial class ConfigLoader
{
    // Ranges shared with docs/configuration.md; keep them in step.
    public const int MinTunMtu = 576, MaxTunMtu = 65515;
    public const int MaxConnMax = 50_000_000;
    public const int MaxSynFloodRate = 100_000_000;
    /// <summary>Longest timeout in seconds: its milliseconds still fit in an Int32.</summary>
    public const int MaxTimeoutSeconds = 2_147_483;
    public const int MinMhTableSize = 3, MaxMhTableSize = 16_777_213;
    /// <summary>Smallest frag_max (the fragment table is 4-way set-associative).</summary>
    public const int FragmentTableMinimum = 4;

    public static readonly IReadOnlyList<string> Schedulers = ["rr", "wrr", "lc", "wlc", "sh", "dh", "mh", "sed", "nq"];
    public static readonly IReadOnlyList<string> ConnFullPolicies = ["evict_oldest", "refuse"];
    public static IReadOnlyList<string> TxModes => ConfigNames.Tx.Names;
    public static IReadOnlyList<string> IoBackends => ConfigNames.Io.Names;
    /// <summary>At most this many capture_interfaces (the capture filter checks each one).</summary>
    public const int MaxCaptureInterfaces = 64;
    public static readonly IReadOnlyList<string> SchedulerFlagNames = ["sh-port", "sh-fallback", "mh-port", "mh-fallback"];

    public static IReadOnlyList<string> EncapNames => ConfigNames.Encap.Names;
    public const int MinMtu = RealServerRules.MinMtu, MinMtuV6 = RealServerRules.MinMtuV6, MaxMtu = RealServerRules.MaxMtu;
    public const int MaxIcmpRate = 1_000_000, MaxFragMax = 10_000_000;
    public const int MinMss = 536, MaxMss = 65495;
    /// <summary>Largest <c>workers</c> value (the per-worker counter slots of a service or real server).</summary>
    public const int MaxWorkers = TunLB.Core.Model.WorkerStatsSet.MaxWorkers;
    /// <summary>withdraw_grace: at most an hour (a stop should not wait longer for routers).</summary>
    public const int MaxWithdrawGrace = 3600;

    /// <summary>[sync] ranges.</summary>
    public const int MaxSyncMessagesPerSecond = 1_000_000, MinSyncQueueLength = 16, MaxSyncQueueLength = 1 << 24, MaxResyncWait = 3600;

    /// <summary>Reads and validates a director config file.</summary>
    /// <exception cref="ConfigException">The file cannot be read or has errors.</exception>
    public static DirectorConfig LoadDirector(string path) => ParseDirector(ReadFile(path), path);

    /// <summary>Validates director config text; <paramref name="path"/> is used in error messages.</summary>
    /// <exception cref="ConfigException">The text has errors.</exception>
    public static DirectorConfig ParseDirector(string text, string path) => Parse(text, path, BuildDirector);

    /// <summary>Reads and validates a real-server config file.</summary>
    /// <exception cref="ConfigException">The file cannot be read or has errors.</exception>
    public static RealServerConfig LoadRealServer(string path) => ParseRealServer(ReadFile(path), path);

    /// <summary>Validates real-server config text; <paramref name="path"/> is used in error messages.</summary>
    /// <exception cref="ConfigException">The text has errors.</exception>
    public static RealServerConfig ParseRealServer(string text, string path) => Parse(text, path, BuildRealServer);

    // Every error of the text, syntax or rules, reaches one sink, and one exception lists them all.
    private static T Parse<T>(string text, string path, Func<TTable, ErrorSink, T> build) where T : class
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(path);
        var sink = new ErrorSink(path);
        var root = TomlTree.Parse(text, path, sink.Errors);
        T? config = root is null ? null : build(root, sink);
        sink.ThrowIfAny();
        return config!;
    }

    private static string ReadFile(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string why;
        try
        {
            return File.ReadAllText(path);
        }
        catch (FileNotFoundException) { why = "file not found"; }
        catch (DirectoryNotFoundException) { why = "file not found (its directory does not exist)"; }
        catch (UnauthorizedAccessException) { why = "permission denied (or the path is a directory)"; }
        catch (IOException ex) { why = ex.Message; }
        catch (ArgumentException ex) { why = $"invalid path: {ex.Message}"; }
        catch (NotSupportedException ex) { why = $"invalid path: {ex.Message}"; }
        throw new ConfigException([new ConfigError(path, 0, 0, "", $"cannot read configuration file: {why}")]);
    }
}
