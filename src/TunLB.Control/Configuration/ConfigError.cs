namespace TunLB.Control.Configuration;

/// <summary>
/// One problem found in a configuration file. <see cref="Line"/> and <see cref="Column"/> are
/// 1-based; 0 means the error concerns the whole file (for example, the file cannot be read).
/// <see cref="Key"/> is the full key path, e.g. <c>service[1].real[0].weight</c>; it is empty for
/// TOML syntax errors that are not about one key.
/// </summary>
public sealed record ConfigError(string File, int Line, int Column, string Key, string Message)
{
    /// <summary>
    /// <c>FILE:LINE:COL: KEY: MESSAGE</c>, the format compilers use so editors can jump to it.
    /// The <c>LINE:COL</c> part is left out when <see cref="Line"/> is 0 and the <c>KEY</c> part
    /// when <see cref="Key"/> is empty.
    /// </summary>
    public override string ToString()
    {
        var position = Line > 0 ? $"{File}:{Line}:{Column}" : File;
        return Key.Length > 0 ? $"{position}: {Key}: {Message}" : $"{position}: {Message}";
    }
}

/// <summary>
/// A configuration file was rejected. Holds every error found, not only the first one;
/// <see cref="Exception.Message"/> lists them all, one per line, in file order.
/// </summary>
public sealed class ConfigException : Exception
{
    public ConfigException(IReadOnlyList<ConfigError> errors)
        : base(FormatMessage(errors))
    {
        Errors = errors;
    }

    public IReadOnlyList<ConfigError> Errors { get; }

    private static string FormatMessage(IReadOnlyList<ConfigError> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (errors.Count == 0) throw new ArgumentException("a ConfigException needs at least one error", nameof(errors));
        return string.Join('\n', errors.Select(e => e.ToString()));
    }
}
